package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.it.TestCluster;
import dev.cairn.it.CliTest;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code criu lazy-pages} as a client built from the codec, over a real loopback socket, asking
 * a real 3-node cluster's stored image for page ranges: the answers are CRIU's ADD_F header and
 * exactly the stored bytes, and a range the image does not hold ends the connection.
 */
class LazyPageServerTest {

    private static final int PAGE = PageServerCodec.PAGE_BYTES;
    private static final long PID = 42;
    private static final long BASE = 0x7f00_0000_0000L;

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;
    static byte[] pages;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        // Task 42: 3 present pages at BASE, 2 lazy-only pages (no bytes) after a gap, then 4 lazy|present pages.
        PagemapImage pagemap = new PagemapImage(65_537, 100);
        pagemap.add(BASE, 3, PageFlags.PRESENT);
        pagemap.add(BASE + 10L * PAGE, 2, PageFlags.LAZY);
        pagemap.add(BASE + 20L * PAGE, 4, PageFlags.LAZY | PageFlags.PRESENT);
        pages = new byte[7 * PAGE];
        new Random(7).nextBytes(pages);
        Path image = Files.createDirectories(dir.resolve("dump"));
        Files.write(image.resolve("pagemap-42.img"), pagemap.bytes());
        Files.write(image.resolve("pages-65537.img"), pages);
        Files.writeString(image.resolve("core-42.img"), "not pages");
        client.put("job/lazy", image);
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

    /** Serves one connection in the background; the future says whether it ended with CLOSE. */
    private static CompletableFuture<Boolean> serve(PageServerListener listener, ByteArrayOutputStream log) {
        LazyPageServer server = new LazyPageServer(StoredImage.open(client, "job/lazy"), PageServerLimits.DEFAULT,
                new PrintStream(log, true));
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.serve(listener.accept(Duration.ofSeconds(10)));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static byte[] slice(int fromPage, int count) {
        return Arrays.copyOfRange(pages, fromPage * PAGE, (fromPage + count) * PAGE);
    }

    private static PageServerMessage answer(DataInputStream in, byte[] bytesOut) throws Exception {
        byte[] header = new byte[PageServerCodec.HEADER_BYTES];
        in.readFully(header);
        // decoded by hand: the codec checks dump headers, whose dst_id encodes a pagemap, while an
        // answer to GET carries the bare pid, which lazy-pages reads back to find the task
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int word = b.getInt();
        PageServerMessage m = new PageServerMessage(PageServerCommand.fromCode(word & 0xffff), word >>> 16,
                Integer.toUnsignedLong(b.getInt()), b.getLong(), b.getLong());
        in.readFully(bytesOut, 0, (int) m.nrPages() * PAGE);
        return m;
    }

    @Test
    void getsAreAnsweredWithTheStoredPagesInOrderAndCloseIsAnswered() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
            CompletableFuture<Boolean> served = serve(listener, log);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                var out = s.getOutputStream();
                // lazy-pages sends several requests before it reads the answers; they come back in order
                out.write(PageServerCodec.encode(PageServerMessage.get(PID, BASE + PAGE, 2)));
                out.write(PageServerCodec.encode(PageServerMessage.get(PID, BASE + 21L * PAGE, 3)));
                out.write(PageServerCodec.encode(PageServerMessage.get(PID, BASE + 20L * PAGE, 9)));
                out.flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] got = new byte[16 * PAGE];

                PageServerMessage first = answer(in, got);
                assertEquals(new PageServerMessage(PageServerCommand.ADD_F, PageFlags.PRESENT, 2, BASE + PAGE, PID), first);
                assertArrayEquals(slice(1, 2), Arrays.copyOf(got, 2 * PAGE));

                PageServerMessage second = answer(in, got);
                assertEquals(3, second.nrPages());
                assertEquals(BASE + 21L * PAGE, second.vaddr());
                assertArrayEquals(slice(4, 3), Arrays.copyOf(got, 3 * PAGE), "page 1 of the third entry is page 4 of the file");

                PageServerMessage third = answer(in, got);
                assertEquals(4, third.nrPages(), "an answer stops at the end of its pagemap entry, as CRIU's does");
                assertArrayEquals(slice(3, 4), Arrays.copyOf(got, 4 * PAGE));

                out.write(PageServerCodec.encode(PageServerMessage.close()));
                out.flush();
                byte[] status = new byte[4];
                in.readFully(status);
                assertArrayEquals(new byte[4], status);
                assertEquals(-1, in.read(), "the server closes after answering CLOSE");
            }
            assertTrue(served.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aRangeTheImageDoesNotHoldIsRefusedByClosing() throws Exception {
        long[][] refused = {
            {PID, BASE + 3L * PAGE, 1},   // past the first entry, in the gap
            {PID, BASE + 10L * PAGE, 1},  // lazy-only: no bytes were dumped
            {PID, BASE + 24L * PAGE, 1},  // past the last entry
            {43, BASE, 1},                // a task the image has no pagemap for
        };
        for (long[] r : refused) {
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
                CompletableFuture<Boolean> served = serve(listener, log);
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                    s.getOutputStream().write(PageServerCodec.encode(PageServerMessage.get(r[0], r[1], r[2])));
                    s.getOutputStream().flush();
                    s.setSoTimeout(10_000);
                    assertEquals(-1, s.getInputStream().read(), "no answer, the connection ends");
                }
                assertFalse(served.get(10, TimeUnit.SECONDS));
                assertTrue(log.toString().contains("does not hold"), log.toString());
            }
        }
    }

    @Test
    void cairnCriuLazyPagesWritesAllButThePagesThenServesOneConnection() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path images = dir.resolve("lazy-dir");
        CompletableFuture<CliTest.Run> run = CompletableFuture.supplyAsync(() -> CliTest.cairn(
                "criu", "lazy-pages", "job/lazy", "--cluster", cluster.endpoints(), "--port", Integer.toString(port),
                "--images-dir", images.toString()));
        Socket s = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (s == null) { // bounded poll: the command reads the manifest and writes the files before it listens
            try {
                s = new Socket(InetAddress.getLoopbackAddress(), port);
            } catch (java.net.ConnectException e) {
                assertFalse(run.isDone(), () -> "cairn criu lazy-pages ended early: " + run.join());
                assertTrue(System.nanoTime() < deadline, "cairn criu lazy-pages never listened");
                Thread.sleep(20);
            }
        }
        try (Socket conn = s) {
            conn.getOutputStream().write(PageServerCodec.encode(PageServerMessage.get(PID, BASE, 2)));
            conn.getOutputStream().write(PageServerCodec.encode(PageServerMessage.close()));
            DataInputStream in = new DataInputStream(conn.getInputStream());
            byte[] got = new byte[2 * PAGE];
            assertEquals(2, answer(in, got).nrPages());
            assertArrayEquals(slice(0, 2), got);
            assertEquals(0, in.readInt());
        }
        CliTest.Run r = run.get(30, TimeUnit.SECONDS);
        assertEquals(0, r.code(), r.err());
        assertEquals("served 2 pages of job/lazy in 1 requests", r.out().strip());
        assertTrue(r.err().contains("wrote 3 files of job/lazy"), r.err());
        try (var list = Files.list(images)) {
            assertEquals(java.util.List.of("core-42.img", "pagemap-42.img", "pages-65537.img"),
                    list.map(p -> p.getFileName().toString()).sorted().toList());
        }
        // criu restore --lazy-pages reads the present, non-lazy pages itself, at their offsets; the
        // lazy ones are holes that lazy-pages fills from the server
        byte[] local = Files.readAllBytes(images.resolve("pages-65537.img"));
        byte[] expected = new byte[7 * PAGE];
        System.arraycopy(pages, 0, expected, 0, 3 * PAGE);
        assertArrayEquals(expected, local);
    }

    @Test
    void aDamagedStoredPagemapIsOneClearErrorLineAndExit1() throws Exception {
        Path image = Files.createDirectories(dir.resolve("damaged"));
        Files.write(image.resolve("pagemap-5.img"), "a core image, not a pagemap".getBytes());
        Files.write(image.resolve("pages-1.img"), new byte[PAGE]);
        client.put("job/damaged", image);

        CliTest.Run r = CliTest.cairn("criu", "lazy-pages", "job/damaged", "--cluster", cluster.endpoints(),
                "--images-dir", dir.resolve("damaged-out").toString());

        assertEquals(1, r.code(), r.err());
        assertEquals("cairn: image job/damaged cannot be restored lazily: pagemap-5.img of the stored image is not a "
                + "pagemap CRIU can have written: it does not start with CRIU's pagemap magics; it is damaged or was not "
                + "stored from a criu dump (cairn verify job/damaged checks its chunks)", r.err().strip());
        assertEquals("", r.out());
    }

    @Test
    void cairnCriuLazyPagesServesTwoRestoresFromTwoDirectoriesAndPrintsJson() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path images = dir.resolve("two-restores");
        CompletableFuture<CliTest.Run> run = CompletableFuture.supplyAsync(() -> CliTest.cairn(
                "criu", "lazy-pages", "job/lazy", "--cluster", cluster.endpoints(), "--port", Integer.toString(port),
                "--images-dir", images.toString(), "--restores", "2", "--json"));
        Socket first = connectWhenListening(port, run);
        try (Socket a = first; Socket b = new Socket(InetAddress.getLoopbackAddress(), port)) {
            for (Socket s : java.util.List.of(b, a)) { // the second restore is answered while the first is open
                s.getOutputStream().write(PageServerCodec.encode(PageServerMessage.get(PID, BASE + 20L * PAGE, 4)));
                s.getOutputStream().write(PageServerCodec.encode(PageServerMessage.close()));
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] got = new byte[4 * PAGE];
                assertEquals(4, answer(in, got).nrPages());
                assertArrayEquals(slice(3, 4), got);
                assertEquals(0, in.readInt());
            }
        }
        CliTest.Run r = run.get(30, TimeUnit.SECONDS);
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals("served 8 pages of job/lazy in 2 requests to 2 restores", lines[0]);
        assertEquals("{\"name\":\"job/lazy\",\"pagesServed\":8,\"requests\":2,\"restores\":2,\"failedRestores\":0}",
                lines[lines.length - 1]);
        assertTrue(r.err().contains("wrote 3 files of job/lazy to each of " + images.resolve("1")), r.err());
        for (String restore : java.util.List.of("1", "2")) {
            try (var list = Files.list(images.resolve(restore))) {
                assertEquals(java.util.List.of("core-42.img", "pagemap-42.img", "pages-65537.img"),
                        list.map(p -> p.getFileName().toString()).sorted().toList());
            }
        }
    }

    /** Polls (bounded) until the command listens on {@code port}: it reads the manifest and writes files first. */
    private static Socket connectWhenListening(int port, CompletableFuture<CliTest.Run> run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return new Socket(InetAddress.getLoopbackAddress(), port);
            } catch (java.net.ConnectException e) {
                assertFalse(run.isDone(), () -> "cairn criu lazy-pages ended early: " + run.join());
                assertTrue(System.nanoTime() < deadline, "cairn criu lazy-pages never listened");
                Thread.sleep(20);
            }
        }
    }
}
