package dev.cairn.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestCodecTest {

    private static ChunkRef ref(int seed, int length) {
        return new ChunkRef(ChunkId.of(new byte[] {(byte) seed, (byte) (seed >> 8)}), length);
    }

    private static FileEntry file(String path, ChunkRef... chunks) {
        long size = Arrays.stream(chunks).mapToLong(ChunkRef::rawLength).sum();
        return new FileEntry(path, FileType.REGULAR, 0644, size, "", List.of(chunks));
    }

    /** A small CRIU-like image: directories, page files, an empty file, symlinks, a non-ASCII name. */
    static Manifest tree() {
        return new Manifest(List.of(
                FileEntry.directory("a", 0755),
                file("a/core-1.img", ref(1, 65536), ref(2, 1000)),
                FileEntry.directory("a/sub", 0700),
                file("a/sub/empty"),
                FileEntry.symlink("a/sub/link", "../core-1.img"),
                file("a-b", ref(3, 4096)),
                file("pages-1.img", ref(4, 4096), ref(4, 4096), ref(5, 4096)),
                FileEntry.symlink("z", "/absolute/targets/are/data"),
                file("\u00e9t\u00e9.img", ref(6, 1))));
    }

    /** Offset of the first byte of entry {@code index} in an encoding of {@link #tree()}. */
    private static int offsetOfEntry(byte[] encoded, int index) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(encoded);
        b.position(4 + 1 + 4);
        for (int i = 0; i < index; i++) {
            b.position(b.position() + 2 + (b.getShort(b.position()) & 0xffff) + 1 + 4 + 8);
            b.position(b.position() + 2 + (b.getShort(b.position()) & 0xffff));
            int chunks = b.getInt();
            b.position(b.position() + chunks * (ChunkId.LENGTH_BYTES + 4));
        }
        return b.position();
    }

    private static ManifestFormatException refused(byte[] bytes) {
        return assertThrows(ManifestFormatException.class, () -> ManifestCodec.decode(bytes));
    }

    @Test
    void aTreeRoundTrips() {
        Manifest m = tree();
        Manifest decoded = ManifestCodec.decode(ManifestCodec.encode(m));
        assertEquals(m, decoded);
        assertEquals(9, decoded.entries().size());
        assertEquals(65536 + 1000 + 4096 + 3 * 4096 + 1, decoded.logicalBytes());
        assertEquals(7, decoded.chunkCount());
        assertFalse(decoded.isStream());
    }

    @Test
    void theSameTreeAlwaysEncodesToTheSameBytes() {
        byte[] once = ManifestCodec.encode(tree());
        assertArrayEquals(once, ManifestCodec.encode(tree()));
        assertArrayEquals(once, ManifestCodec.encode(ManifestCodec.decode(once)));
    }

    @Test
    void anEmptyManifestRoundTrips() {
        Manifest empty = new Manifest(List.of());
        assertEquals(empty, ManifestCodec.decode(ManifestCodec.encode(empty)));
    }

    @Test
    void aStreamManifestRoundTrips() {
        Manifest stream = new Manifest(List.of(new FileEntry("", FileType.STREAM, 0, 8192 + 10, "",
                List.of(ref(1, 8192), ref(2, 10)))));
        assertTrue(stream.isStream());
        Manifest decoded = ManifestCodec.decode(ManifestCodec.encode(stream));
        assertEquals(stream, decoded);
        assertTrue(decoded.isStream());
    }

    @Test
    void aStreamEntryMustBeAloneWithAnEmptyPath() {
        FileEntry stream = new FileEntry("", FileType.STREAM, 0, 0, "", List.of());
        assertThrows(ManifestFormatException.class,
                () -> ManifestCodec.encode(new Manifest(List.of(stream, FileEntry.directory("a", 0755)))));
        assertThrows(ManifestFormatException.class,
                () -> ManifestCodec.encode(new Manifest(List.of(new FileEntry("s", FileType.STREAM, 0, 0, "", List.of())))));
    }

    @Test
    void encodeRefusesEntriesOutOfOrder() {
        // "a-b" sorts before "a/..." as text, but a directory's entries come right after it.
        ManifestFormatException e = assertThrows(ManifestFormatException.class, () -> ManifestCodec.encode(new Manifest(List.of(
                FileEntry.directory("a", 0755), file("a-b"), file("a/c")))));
        assertTrue(e.getMessage().contains("not in canonical order: 'a/c' after 'a-b'"), e.getMessage());
    }

    @Test
    void encodeRefusesDuplicatePaths() {
        ManifestFormatException e = assertThrows(ManifestFormatException.class,
                () -> ManifestCodec.encode(new Manifest(List.of(FileEntry.directory("a", 0755), file("a")))));
        assertTrue(e.getMessage().contains("not in canonical order"), e.getMessage());
    }

    @Test
    void encodeRefusesPathsThatLeaveTheImage() {
        for (String bad : new String[] {"..", "a/../../etc", "/etc/passwd", "a//b", "a/./b", "a/", "", "a\0b"}) {
            assertThrows(ManifestFormatException.class, () -> ManifestCodec.encode(new Manifest(List.of(file(bad)))), bad);
        }
        assertThrows(ManifestFormatException.class,
                () -> ManifestCodec.encode(new Manifest(List.of(file("d/".repeat(ManifestCodec.MAX_DEPTH) + "f")))));
    }

    /** Two directories whose one-letter names are easy to rewrite in place in the encoded bytes. */
    private static byte[] twoDirectories() {
        return ManifestCodec.encode(new Manifest(List.of(FileEntry.directory("ab", 0755), FileEntry.directory("cd", 0755))));
    }

    private static byte[] withPaths(String first, String second) {
        byte[] b = twoDirectories();
        int firstAt = 4 + 1 + 4 + 2;
        int secondAt = offsetOfEntry(b, 1) + 2;
        System.arraycopy(first.getBytes(StandardCharsets.US_ASCII), 0, b, firstAt, 2);
        System.arraycopy(second.getBytes(StandardCharsets.US_ASCII), 0, b, secondAt, 2);
        return b;
    }

    @Test
    void decodeRefusesEntriesOutOfOrderOrDuplicated() {
        ManifestCodec.decode(withPaths("ab", "cd"));
        assertTrue(refused(withPaths("cd", "ab")).getMessage().contains("not in canonical order"));
        assertTrue(refused(withPaths("ab", "ab")).getMessage().contains("not in canonical order"));
    }

    @Test
    void decodeRefusesDotDotAndAbsolutePaths() {
        assertTrue(refused(withPaths("..", "cd")).getMessage().contains("'..'"));
        assertTrue(refused(withPaths("ab", "/d")).getMessage().contains("is absolute"));
    }

    @Test
    void everyTruncationIsRefused() {
        byte[] valid = ManifestCodec.encode(tree());
        for (int length = 0; length < valid.length; length++) {
            byte[] prefix = Arrays.copyOf(valid, length);
            assertThrows(ManifestFormatException.class, () -> ManifestCodec.decode(prefix), "prefix of " + length + " bytes");
        }
    }

    @Test
    void badMagicIsRefused() {
        byte[] b = ManifestCodec.encode(tree());
        b[0] = 'X';
        assertTrue(refused(b).getMessage().contains("bad magic"));
    }

    @Test
    void anUnknownVersionIsRefused() {
        byte[] b = ManifestCodec.encode(tree());
        b[4] = 2;
        assertTrue(refused(b).getMessage().contains("version 2 is not known"));
    }

    @Test
    void trailingBytesAreRefused() {
        byte[] valid = ManifestCodec.encode(tree());
        assertTrue(refused(Arrays.copyOf(valid, valid.length + 1)).getMessage().contains("1 trailing bytes"));
    }

    @Test
    void aFlippedTypeByteIsRefused() {
        byte[] valid = ManifestCodec.encode(tree());
        int entry = offsetOfEntry(valid, 1); // a/core-1.img, a file with chunks
        int typeAt = entry + 2 + "a/core-1.img".length();
        assertEquals(FileType.REGULAR.ordinal(), valid[typeAt]);

        byte[] unknown = valid.clone();
        unknown[typeAt] = 9;
        assertTrue(refused(unknown).getMessage().contains("unknown type 9"));

        byte[] directory = valid.clone();
        directory[typeAt] = (byte) FileType.DIRECTORY.ordinal();
        assertTrue(refused(directory).getMessage().contains("cannot have chunks"));

        byte[] symlink = valid.clone();
        symlink[typeAt] = (byte) FileType.SYMLINK.ordinal();
        assertTrue(refused(symlink).getMessage().contains("has no target"));

        byte[] stream = valid.clone();
        stream[typeAt] = (byte) FileType.STREAM.ordinal();
        assertTrue(refused(stream).getMessage().contains("stream entry must be the only entry"));
    }

    @Test
    void aSizeThatDisagreesWithTheChunksIsRefused() {
        byte[] b = ManifestCodec.encode(tree());
        int sizeAt = offsetOfEntry(b, 1) + 2 + "a/core-1.img".length() + 1 + 4;
        java.nio.ByteBuffer.wrap(b).putLong(sizeAt, 66537);
        assertTrue(refused(b).getMessage().contains("chunks add up to 66536"));
    }

    @Test
    void aHugeEntryOrChunkCountIsRefusedWithoutAllocating() {
        byte[] b = ManifestCodec.encode(tree());
        byte[] entries = b.clone();
        java.nio.ByteBuffer.wrap(entries).putInt(5, Integer.MAX_VALUE);
        assertTrue(refused(entries).getMessage().contains("the limit is " + ManifestCodec.MAX_ENTRIES));

        byte[] chunks = b.clone();
        int countAt = offsetOfEntry(b, 1) + 2 + "a/core-1.img".length() + 1 + 4 + 8 + 2;
        assertEquals(2, java.nio.ByteBuffer.wrap(b).getInt(countAt));
        java.nio.ByteBuffer.wrap(chunks).putInt(countAt, Integer.MAX_VALUE);
        assertTrue(refused(chunks).getMessage().contains("claims 2147483647 chunks"));
    }

    @Test
    void everySingleByteCorruptionIsRefusedOrDecodesToAValidManifest() {
        byte[] valid = ManifestCodec.encode(tree());
        List<Integer> crashes = new ArrayList<>();
        for (int i = 0; i < valid.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] b = valid.clone();
                b[i] ^= (byte) (1 << bit);
                try {
                    ManifestCodec.decode(b);
                } catch (ManifestFormatException refused) {
                    // fine
                } catch (RuntimeException e) {
                    crashes.add(i);
                }
            }
        }
        assertEquals(List.of(), crashes, "offsets where a flipped bit escaped as another exception");
    }

    @Test
    void canonicalOrderPutsADirectorysEntriesRightAfterIt() {
        assertTrue(EntryPaths.compare("a", "a/b") < 0);
        assertTrue(EntryPaths.compare("a/b", "a-b") < 0);
        assertTrue(EntryPaths.compare("a/z", "a-b") < 0);
        assertEquals(0, EntryPaths.compare("a/b", "a/b"));
    }
}
