package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.ProgressListener;
import dev.cairn.client.PutResult;
import dev.cairn.it.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dump's page-server conversation, built byte by byte from CRIU's layout, sent by a stand-in
 * for criu over a real loopback socket into a real 3-node cluster: the image it leaves is what
 * CRIU's own page server would have written, and chunks exactly as a plain put of those files.
 */
class PageServerIngestTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A page of seeded random bytes: pages with the same seed are the same page. */
    private static byte[] page(int seed) {
        byte[] p = new byte[4096];
        new Random(seed).nextBytes(p);
        return p;
    }

    private static byte[] header(int cmd, long nrPages, long vaddr, long dstId) {
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(cmd).putInt((int) nrPages).putLong(vaddr).putLong(dstId).array();
    }

    private static long task(long pid) {
        return pid << 8 | 1;
    }

    private static void varint(ByteArrayOutputStream to, long v) {
        while (Long.compareUnsigned(v, 0x80) >= 0) {
            to.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        to.write((int) v);
    }

    /** A protobuf message of varint fields {number, value, …}, prefixed by its u32 length. */
    private static void message(ByteArrayOutputStream to, long... fields) {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        for (int i = 0; i < fields.length; i += 2) {
            varint(m, fields[i] << 3);
            varint(m, fields[i + 1]);
        }
        to.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(m.size()).array());
        to.writeBytes(m.toByteArray());
    }

    /** The stream criu sends, and the files CRIU's own page server would write from it. */
    static final class Dump {
        final ByteArrayOutputStream wire = new ByteArrayOutputStream();
        final java.util.Map<String, ByteArrayOutputStream> files = new java.util.TreeMap<>();
        private long pid;
        private ByteArrayOutputStream pagemap;
        private ByteArrayOutputStream pages;
        private long pagesId = 0x10001;

        Dump open(long pid) {
            this.pid = pid;
            wire.writeBytes(header(4, 0, 0, task(pid)));
            pagemap = new ByteArrayOutputStream();
            pagemap.writeBytes(new byte[] {0x19, 0x43, 0x56, 0x54, 0x25, 0x40, 0x08, 0x56});
            message(pagemap, 1, pagesId);
            pages = new ByteArrayOutputStream();
            files.put("pagemap-" + pid + ".img", pagemap);
            files.put("pages-" + pagesId++ + ".img", pages);
            return this;
        }

        /** A present run of pages seeded {@code firstSeed}, {@code firstSeed + 1}, …; flags 4 or 6 (lazy|present). */
        Dump present(long vaddr, int nrPages, int firstSeed, int flags) {
            wire.writeBytes(header(flags << 16 | 6, nrPages, vaddr, task(pid)));
            message(pagemap, 1, vaddr, 2, nrPages, 4, flags);
            for (int i = 0; i < nrPages; i++) {
                wire.writeBytes(page(firstSeed + i));
                pages.writeBytes(page(firstSeed + i));
            }
            return this;
        }

        Dump lazy(long vaddr, int nrPages) {
            wire.writeBytes(header(2 << 16 | 6, nrPages, vaddr, task(pid)));
            message(pagemap, 1, vaddr, 2, nrPages, 4, 2);
            return this;
        }

        Dump close() {
            wire.writeBytes(header(0x1023, 0, 0, 0));
            return this;
        }

        byte[] bytes() {
            return wire.toByteArray();
        }
    }

    /** A dump of two tasks: 300 pages, some repeated, a lazy-only range, then 40 more pages. */
    private static Dump twoTasks() {
        return new Dump()
                .open(100)
                .present(0x40_0000, 120, 1, 4)
                .lazy(0x50_0000, 1000)
                .present(0x60_0000, 100, 500, 6)
                .present(0x70_0000, 80, 1, 4) // the same 80 pages again: dedup within the dump
                .open(101)
                .present(0x1000, 40, 900, 6)
                .close();
    }

    /** The files criu itself leaves in its -D directory: small, cut by FastCDC. */
    private static Path restOfDump(String name) throws IOException {
        Path rest = Files.createDirectories(dir.resolve(name));
        byte[] core = new byte[20_000];
        new Random(7).nextBytes(core);
        Files.write(rest.resolve("core-100.img"), core);
        Files.write(rest.resolve("inventory.img"), new byte[] {1, 2, 3});
        Files.setPosixFilePermissions(rest.resolve("core-100.img"), PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(rest.resolve("inventory.img"), PosixFilePermissions.fromString("rw-------"));
        return rest;
    }

    /** Stands in for criu: connects, sends {@code bytes}, reads what the server answers until it closes. */
    private static CompletableFuture<byte[]> criu(int port, byte[] bytes) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                OutputStream out = s.getOutputStream();
                try {
                    out.write(bytes);
                    s.shutdownOutput();
                } catch (IOException serverClosedFirst) {
                    return new byte[0]; // a server that refused the stream may close mid-write
                }
                return s.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static PutResult ingest(String name, byte[] stream, Path rest) throws Exception {
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
            CompletableFuture<byte[]> criu = criu(listener.port(), stream);
            try {
                return CriuIngest.ingest(client, name, listener.accept(Duration.ofSeconds(10)),
                        () -> CriuIngest.directory(rest), PageServerLimits.DEFAULT, ProgressListener.NONE);
            } finally {
                criu.get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aDumpThroughThePageServerIsStoredAsCriusOwnServerWouldHaveWrittenIt() throws Exception {
        Dump dump = twoTasks();
        Path rest = restOfDump("rest-ok");
        CompletableFuture<byte[]> answers;
        PutResult put;
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
            answers = criu(listener.port(), dump.bytes());
            put = CriuIngest.ingest(client, "criu/ok", listener.accept(Duration.ofSeconds(10)),
                    () -> CriuIngest.directory(rest), PageServerLimits.DEFAULT, ProgressListener.NONE);
        }
        // two OPEN2 answers (no parent), then the close's status 0
        assertArrayEquals(new byte[6], answers.get(30, TimeUnit.SECONDS));

        Path got = dir.resolve("got");
        client.get("criu/ok", got);
        List<String> names;
        try (var list = Files.list(got)) {
            names = list.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("core-100.img", "inventory.img", "pagemap-100.img", "pagemap-101.img",
                "pages-65537.img", "pages-65538.img"), names);
        for (var file : dump.files.entrySet()) {
            assertArrayEquals(file.getValue().toByteArray(), Files.readAllBytes(got.resolve(file.getKey())), file.getKey());
        }
        assertEquals(300L * 4096, Files.size(got.resolve("pages-65537.img")));
        assertArrayEquals(Files.readAllBytes(rest.resolve("core-100.img")), Files.readAllBytes(got.resolve("core-100.img")));

        // The same files put the plain way: every chunk, the manifest's too, is already stored.
        PutResult plain = client.put("criu/plain", got);
        assertEquals(0, plain.newChunks(), "a plain put of the same dump must dedup against the page-server one");
        assertEquals(put.chunks(), plain.chunks());
    }

    @Test
    void aStreamCutMidwayCommitsNothing() throws Exception {
        byte[] whole = twoTasks().bytes();
        byte[] cut = Arrays.copyOf(whole, 24 + 24 + 50 * 4096 + 1000);

        CairnException e = assertThrows(CairnException.class, () -> ingest("criu/cut", cut, restOfDump("rest-cut")));

        assertTrue(e.getMessage().contains("ended 1000 bytes into page 51 of the 120 pages"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("criu/cut"));
    }

    @Test
    void aStreamThatEndsBeforeCloseCommitsNothing() throws Exception {
        byte[] whole = twoTasks().bytes();
        byte[] noClose = Arrays.copyOf(whole, whole.length - 24);

        CairnException e = assertThrows(CairnException.class, () -> ingest("criu/noclose", noClose, restOfDump("rest-noclose")));

        assertTrue(e.getMessage().contains("ended before criu's PS_IOV_CLOSE"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("criu/noclose"));
    }

    @Test
    void aCorruptStreamCommitsNothing() throws Exception {
        byte[] corrupt = twoTasks().bytes();
        int secondEntry = 24 + 24 + 120 * 4096;
        corrupt[secondEntry] = (byte) 0x99; // the lazy entry's command word

        CairnException e = assertThrows(CairnException.class, () -> ingest("criu/corrupt", corrupt, restOfDump("rest-corrupt")));

        assertTrue(e.getMessage().contains("unknown page-server command word"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("criu/corrupt"));
    }
}
