package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.it.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node of a real in-process 3-node cluster is stopped between two {@code PS_IOV_GET}s of one
 * lazy restore: every later answer still arrives, within a bound, byte for byte what was stored,
 * read from the replicas that are left.
 */
class LazyRestoreNodeLossTest {

    private static final int PAGE = PageServerCodec.PAGE_BYTES;
    private static final long PID = 91;
    private static final long BASE = 0x7f20_0000_0000L;
    private static final int PAGES = 48;
    /** Far below the client's 30 s request timeout: a lost node must cost a retry, not a timeout. */
    private static final long MAX_ANSWER_MILLIS = 2_000;

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;
    static byte[] pages;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        PagemapImage pagemap = new PagemapImage(65_542, 300);
        pagemap.add(BASE, PAGES, PageFlags.LAZY | PageFlags.PRESENT);
        pages = new byte[PAGES * PAGE];
        new Random(91).nextBytes(pages);
        Path image = Files.createDirectories(dir.resolve("dump"));
        Files.write(image.resolve("pagemap-91.img"), pagemap.bytes());
        Files.write(image.resolve("pages-65542.img"), pages);
        client.put("job/node-loss", image);
        assertTrue(cluster.awaitSameChunkCounts(java.time.Duration.ofSeconds(30)), "every node holds every chunk");
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

    /** Sends one GET of one page and checks the answer; returns how long the answer took. */
    private static long getAndCheck(Socket s, DataInputStream in, int page) throws Exception {
        long started = System.nanoTime();
        s.getOutputStream().write(PageServerCodec.encode(PageServerMessage.get(PID, BASE + (long) page * PAGE, 1)));
        s.getOutputStream().flush();
        byte[] header = new byte[PageServerCodec.HEADER_BYTES];
        in.readFully(header);
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, b.getInt(4), "one page answered");
        assertEquals(BASE + (long) page * PAGE, b.getLong(8));
        byte[] got = new byte[PAGE];
        in.readFully(got);
        assertArrayEquals(Arrays.copyOfRange(pages, page * PAGE, (page + 1) * PAGE), got, "page " + page);
        return (System.nanoTime() - started) / 1_000_000;
    }

    @Test
    void aNodeStoppedBetweenTwoGetsIsReplacedByAnotherReplica() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        java.util.List<java.io.Closeable> blackhole = java.util.List.of();
        // A client of its own, so it has open connections to every node when one of them goes.
        try (CairnClient reader = cluster.client();
             PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
            LazyPageServer server = new LazyPageServer(StoredImage.open(reader, "job/node-loss"), PageServerLimits.DEFAULT,
                    new PrintStream(log, true));
            CompletableFuture<LazyRestores.Outcome> served = CompletableFuture.supplyAsync(() -> {
                try {
                    return LazyRestores.serve(listener, server, 1, PageServerLimits.DEFAULT, new PrintStream(log, true));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                s.setSoTimeout(60_000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                for (int page = 0; page < 6; page++) { // each read asks node-1 first (ChunkReader.firstAsked)
                    getAndCheck(s, in, page);
                }
                cluster.server(0).close();
                // As a killed host: its connections ended, and a new connect gets no answer at all
                // (no refusal either) until the client's connect timeout: the port's listen queue
                // is kept full, so the kernel drops the connect's SYNs.
                blackhole = blackhole(cluster.endpoints().split(",")[0]);
                long slowest = 0;
                for (int page = 6; page < PAGES; page++) {
                    slowest = Math.max(slowest, getAndCheck(s, in, page));
                }
                System.out.println("lazy restore with a node stopped: slowest of " + (PAGES - 6) + " answers " + slowest + " ms");
                assertTrue(slowest < MAX_ANSWER_MILLIS, "an answer took " + slowest + " ms after the node stopped");
                s.getOutputStream().write(PageServerCodec.encode(PageServerMessage.close()));
                assertEquals(0, in.readInt());
            }
            assertEquals(new LazyRestores.Outcome(1, 0), served.get(30, TimeUnit.SECONDS), log.toString());
            assertEquals(PAGES, server.pagesServed());
        } finally {
            for (java.io.Closeable c : blackhole) {
                c.close();
            }
        }
    }

    /** Listens on {@code endpoint}'s port with a listen queue that is full, so connects to it hang. */
    private static java.util.List<java.io.Closeable> blackhole(String endpoint) throws Exception {
        int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
        java.util.List<java.io.Closeable> held = new java.util.ArrayList<>();
        java.net.ServerSocket listener = new java.net.ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
        held.add(listener);
        // Linux queues backlog + 1 connections; the next ones' SYNs are dropped, never refused.
        for (int i = 0; i < 2; i++) {
            held.add(new Socket(InetAddress.getLoopbackAddress(), port));
        }
        return held;
    }
}
