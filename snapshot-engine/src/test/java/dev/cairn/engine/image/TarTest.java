package dev.cairn.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import dev.cairn.engine.manifest.Manifest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tar archives in and out: what GNU tar writes reads back, what we write GNU tar reads, hostile archives are refused. */
class TarTest {

    @TempDir
    Path dir;

    /** Builds a manifest from a tar, keeping the chunks so files can be compared. */
    static final class Built {
        final Map<ChunkId, byte[]> chunks = new HashMap<>();
        Manifest manifest;

        byte[] content(FileEntry e) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            e.chunks().forEach(r -> out.writeBytes(chunks.get(r.id())));
            return out.toByteArray();
        }
    }

    static Built fromTar(byte[] tar) throws SourceException {
        return fromTar(tar, TarOptions.STRICT);
    }

    static Built fromTar(byte[] tar, TarOptions options) throws SourceException {
        Built built = new Built();
        try (ChunkPipeline p = new ChunkPipeline(ChunkingPolicy.DEFAULT, 3, 2, 4, c -> {
            if (c.data() != null) {
                ChunkData d = c.data();
                java.nio.ByteBuffer raw = d.rawBytes();
                byte[] b = new byte[raw.remaining()];
                raw.get(b);
                built.chunks.put(d.id(), b);
            }
        })) {
            built.manifest = new ImageBuilder(p).fromTar(new ByteArrayInputStream(tar), options);
        }
        return built;
    }

    private static byte[] tarOf(TarBody body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out, 0);
        body.write(w);
        w.finish();
        return out.toByteArray();
    }

    interface TarBody {
        void write(TarWriter w) throws IOException;
    }

    private static String run(Path cwd, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
        return out;
    }

    @Test
    void anArchiveFromGnuTarReadsBackWithLongNamesSymlinksModesAndEmptyEntries() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        String longName = "d".repeat(80) + "/" + "f".repeat(150) + ".bin";
        Files.createDirectories(src.resolve(longName).getParent());
        byte[] big = new byte[700_000];
        new Random(5).nextBytes(big);
        Files.write(src.resolve(longName), big);
        Files.createDirectories(src.resolve("empty-dir"));
        Files.write(src.resolve("empty-file"), new byte[0]);
        Files.createSymbolicLink(src.resolve("parent"), Path.of("../dump-0"));
        Files.createSymbolicLink(src.resolve("long-link"), Path.of("x".repeat(120)));
        Files.setPosixFilePermissions(src.resolve("empty-file"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x---"));
        run(dir, "tar", "--format=gnu", "-C", "src", "-cf", "gnu.tar", ".");
        run(dir, "tar", "--format=pax", "-C", "src", "-cf", "pax.tar", ".");

        for (String archive : List.of("gnu.tar", "pax.tar")) {
            Built built = fromTar(Files.readAllBytes(dir.resolve(archive)));
            Map<String, FileEntry> byPath = new HashMap<>();
            built.manifest.entries().forEach(e -> byPath.put(e.path(), e));
            assertEquals(java.util.Set.of("d".repeat(80), longName, "empty-dir", "empty-file", "parent", "long-link"),
                    byPath.keySet(), archive);
            assertTrue(java.util.Arrays.equals(big, built.content(byPath.get(longName))), archive);
            assertEquals(FileType.SYMLINK, byPath.get("parent").type());
            assertEquals("../dump-0", byPath.get("parent").linkTarget());
            assertEquals("x".repeat(120), byPath.get("long-link").linkTarget());
            assertEquals(0710, byPath.get("empty-file").mode());
            assertEquals(0, byPath.get("empty-file").size());
            assertEquals(FileType.DIRECTORY, byPath.get("empty-dir").type());
        }
    }

    @Test
    void whatTarWriterWritesGnuTarExtractsExactly() throws Exception {
        String longName = "a/" + "n".repeat(200);
        byte[] data = new byte[100_001];
        new Random(6).nextBytes(data);
        byte[] tar = tarOf(w -> {
            w.directory("a", 0750);
            w.file(longName, 0600, data.length);
            w.write(data, 0, data.length);
            w.symlink("a/link", "../" + "t".repeat(150));
            w.directory("a/empty", 0755);
        });
        Files.write(dir.resolve("ours.tar"), tar);
        Files.createDirectories(dir.resolve("out"));
        run(dir, "tar", "-C", "out", "-xf", "ours.tar");
        assertTrue(java.util.Arrays.equals(data, Files.readAllBytes(dir.resolve("out").resolve(longName))));
        assertEquals("../" + "t".repeat(150), Files.readSymbolicLink(dir.resolve("out/a/link")).toString());
        assertTrue(Files.isDirectory(dir.resolve("out/a/empty")));
        // And it reads back into the same manifest.
        Built built = fromTar(tar);
        assertEquals(4, built.manifest.entries().size());
    }

    @Test
    void missingParentDirectoriesAreAdded() throws Exception {
        Built built = fromTar(tarOf(w -> {
            w.file("x/y/z", 0644, 3);
            w.write(new byte[] {1, 2, 3}, 0, 3);
        }));
        assertEquals(List.of("x", "x/y", "x/y/z"), built.manifest.entries().stream().map(FileEntry::path).toList());
        assertEquals(0755, built.manifest.entries().get(0).mode());
    }

    private static void assertRefused(byte[] tar, String expected) {
        SourceException e = assertThrows(SourceException.class, () -> fromTar(tar));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should say '" + expected + "'");
    }

    @Test
    void dataNobodyReadIsReadPastOnAPipeThatCannotSeek() throws Exception {
        byte[] tar = tarOf(w -> {
            w.file("first", 0644, 100_000);
            w.write(new byte[100_000], 0, 100_000);
            w.file("second", 0644, 0);
        });
        // As a pipe behaves: skip needs a seek, and a pipe has no position.
        java.io.InputStream pipe = new java.io.FilterInputStream(new ByteArrayInputStream(tar)) {
            @Override
            public long skip(long n) throws IOException {
                throw new IOException("Illegal seek");
            }
        };
        TarReader reader = new TarReader(pipe);
        assertEquals("first", reader.next().path());
        assertEquals("second", reader.next().path(), "the first file's data was read past, not skipped");
        assertEquals(null, reader.next());
    }

    @Test
    void absolutePathsAndDotDotAreRefused() throws Exception {
        assertRefused(tarOf(w -> w.file("/etc/passwd", 0644, 0)), "absolute");
        assertRefused(tarOf(w -> w.file("a/../../escape", 0644, 0)), "'..'");
        assertRefused(tarOf(w -> w.symlink("..", "x")), "'..'");
    }

    @Test
    void anEntryBelowASymlinkIsRefused() throws Exception {
        assertRefused(tarOf(w -> {
            w.symlink("link", "/etc");
            w.file("link/passwd", 0644, 0);
        }), "symlink");
        assertRefused(tarOf(w -> {
            w.file("plain", 0644, 0);
            w.file("plain/child", 0644, 0);
        }), "is a file");
    }

    @Test
    void duplicatesHardLinksAndDevicesAreRefused() throws Exception {
        assertRefused(tarOf(w -> {
            w.file("same", 0644, 0);
            w.file("same", 0644, 0);
        }), "appears twice");
        assertRefused(header("hard", Tar.HARDLINK, 0, "other"), "hard link");
        assertRefused(header("dev", Tar.CHAR_DEVICE, 0, ""), "device");
    }

    @Test
    void hugeExtendedHeadersAreRefusedBeforeTheyAreRead() throws Exception {
        assertRefused(header("PaxHeader", Tar.PAX_EXTENDED, 2L * 1024 * 1024 * 1024, ""), "exceeds the limit");
        assertRefused(header("././@LongLink", Tar.GNU_LONG_NAME, Tar.MAX_META_BYTES + 1, ""), "exceeds the limit");
    }

    @Test
    void corruptAndTruncatedArchivesAreRefused() throws Exception {
        byte[] good = tarOf(w -> {
            w.file("f", 0644, 1000);
            w.write(new byte[1000], 0, 1000);
        });
        byte[] badSum = good.clone();
        badSum[0] ^= 1;
        assertRefused(badSum, "checksum");
        assertRefused(java.util.Arrays.copyOf(good, 700), "truncated");
        assertRefused(java.util.Arrays.copyOf(good, 300), "truncated");
        assertRefused("this is not a tar archive at all".repeat(20).getBytes(StandardCharsets.US_ASCII), "checksum");
    }

    @Test
    void anArchiveCutOffAtABlockBoundaryIsRefusedNamingTheLastEntry() throws Exception {
        byte[] good = tarOf(w -> {
            w.file("first", 0644, 1000);
            w.write(new byte[1000], 0, 1000);
            w.file("second", 0644, 10);
            w.write(new byte[10], 0, 10);
        });
        int afterFirst = 3 * Tar.BLOCK; // header and two data blocks
        for (int cut : new int[] {afterFirst, good.length - 2 * Tar.BLOCK, good.length - Tar.BLOCK}) {
            String last = cut == afterFirst ? "first" : "second";
            assertRefused(java.util.Arrays.copyOf(good, cut),
                    "the archive ends without its end-of-archive blocks after entry '" + last + "'; it was cut off");
            assertRefused(java.util.Arrays.copyOf(good, cut), "--allow-truncated-tar");
        }
        assertRefused(new byte[0], "the archive is empty");
    }

    @Test
    void aCutOffArchiveIsStoredAsItArrivedOnlyWhenAllowed() throws Exception {
        byte[] good = tarOf(w -> {
            w.file("first", 0644, 3);
            w.write(new byte[] {1, 2, 3}, 0, 3);
            w.file("second", 0644, 0);
        });
        Built cut = fromTar(java.util.Arrays.copyOf(good, 2 * Tar.BLOCK), TarOptions.ALLOW_TRUNCATED);
        assertEquals(List.of("first"), cut.manifest.entries().stream().map(FileEntry::path).toList());
        assertEquals(0, fromTar(new byte[0], TarOptions.ALLOW_TRUNCATED).manifest.entries().size());
        // A cut inside a header or a file's data is refused whatever the option: that entry is broken.
        SourceException inData = assertThrows(SourceException.class,
                () -> fromTar(java.util.Arrays.copyOf(good, Tar.BLOCK + 2), TarOptions.ALLOW_TRUNCATED));
        assertTrue(inData.getMessage().contains("truncated"), inData.getMessage());
    }

    @Test
    void aLoneZeroBlockFollowedByAHeaderIsRefused() throws Exception {
        byte[] one = tarOf(w -> w.file("a", 0644, 0));
        byte[] joined = new byte[Tar.BLOCK * 2 + one.length];
        System.arraycopy(one, 0, joined, 0, Tar.BLOCK); // a's header, one zero block, then the next header
        System.arraycopy(one, 0, joined, 2 * Tar.BLOCK, one.length);
        assertRefused(joined, "is followed by more data");
    }

    /** What TarFuzzTest found: each was accepted (or failed with an index error) before. */
    @Test
    void theFuzzTestsFindingsAreRefusedWithTheReadersOwnError() throws Exception {
        byte[] badMode = new FuzzTar(new Random(1)).file("m", 0644, new byte[0]).finish();
        badMode[102] = 'x';
        FuzzTar.checksum(badMode, 0);
        assertRefused(badMode, "malformed mode field");
        assertRefused(new FuzzTar(new Random(1)).file("a", 0644, new byte[0]).pax("path", "b").finish(), "describes no entry");
        assertEquals(1, fromTar(new FuzzTar(new Random(1)).file("a", 0644, new byte[0])
                .extension(Tar.PAX_GLOBAL, FuzzTar.utf8(FuzzTar.record("comment", "git"))).finish()).manifest.entries().size(),
                "a global header applies to what follows; none may follow it");
        assertRefused(new FuzzTar(new Random(1)).file(".", 0644, new byte[3]).finish(), "names the archive's root");
        String overflow = FuzzTar.record("path", "p") + "2147483647 path=x\n";
        assertRefused(new FuzzTar(new Random(1)).extension(Tar.PAX_EXTENDED, overflow.getBytes(StandardCharsets.UTF_8))
                .file("f", 0644, new byte[0]).finish(), "malformed PAX record");
        assertRefused(new FuzzTar(new Random(1)).symlink("l", "t".repeat(5000)).finish(), "at most 4096 bytes");
    }

    /** One hand-made header block (no data follows) and the end-of-archive blocks. */
    private static byte[] header(String name, byte type, long size, String link) {
        byte[] b = new byte[Tar.BLOCK * 3];
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, b, 0, n.length);
        put(b, 100, "0000644");
        put(b, 124, String.format("%011o", size));
        b[156] = type;
        byte[] l = link.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(l, 0, b, 157, l.length);
        put(b, 257, "ustar");
        put(b, 263, "00");
        byte[] block = java.util.Arrays.copyOf(b, Tar.BLOCK);
        put(b, 148, String.format("%06o", Tar.checksum(block)));
        b[155] = ' ';
        return b;
    }

    private static void put(byte[] b, int at, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, b, at, bytes.length);
    }
}
