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
import java.time.Duration;
import java.util.ArrayList;
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
 * Read-ahead of a lazy restore against a real 3-node cluster over loopback: lazy-pages' walk
 * through the pages in small requests (as criu's background transfer asks) is answered with the
 * stored bytes, mostly from pages read ahead, and what is held read ahead never passes its bound,
 * for one restore and for two at once sharing it.
 */
class LazyReadAheadTest {

    private static final int PAGE = PageServerCodec.PAGE_BYTES;
    private static final long PID = 7;
    private static final long BASE = 0x7f00_0000_0000L;
    /** Entries: 5 present pages criu restores itself, then two lazy runs with a gap between. */
    private static final long[][] ENTRIES = {{0, 5, PageFlags.PRESENT},
        {100, 1500, PageFlags.LAZY | PageFlags.PRESENT}, {2000, 700, PageFlags.LAZY | PageFlags.PRESENT}};
    private static final long BOUND = 2L << 20;

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;
    static byte[] pages;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        PagemapImage pagemap = new PagemapImage(65_537, 100);
        int total = 0;
        for (long[] e : ENTRIES) {
            pagemap.add(BASE + e[0] * PAGE, e[1], (int) e[2]);
            total += (int) e[1];
        }
        pages = new byte[total * PAGE];
        new Random(11).nextBytes(pages);
        Path image = Files.createDirectories(dir.resolve("dump"));
        Files.write(image.resolve("pagemap-7.img"), pagemap.bytes());
        Files.write(image.resolve("pages-65537.img"), pages);
        client.put("job/ahead", image);
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

    /** Each lazy page's address and its index in the pages file, in address order. */
    private static List<long[]> lazyPages() {
        List<long[]> out = new ArrayList<>();
        long index = 0;
        for (long[] e : ENTRIES) {
            for (long i = 0; i < e[1]; i++, index++) {
                if ((e[2] & PageFlags.LAZY) != 0) {
                    out.add(new long[] {BASE + (e[0] + i) * PAGE, index});
                }
            }
        }
        return out;
    }

    /**
     * Asks for every lazy page as lazy-pages would: first a fault far ahead, then the walk from the
     * start in requests of up to 8 pages, skipping what the fault brought; checks every byte.
     */
    private static void walk(int port) throws Exception {
        List<long[]> lazy = lazyPages();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            int fault = 1700;
            ask(s, in, lazy.get(fault)[0], 2, lazy.get(fault)[1]);
            for (int i = 0; i < lazy.size(); ) {
                if (i == fault) {
                    i += 2;
                    continue;
                }
                int n = 1;
                while (n < 8 && i + n < lazy.size() && i + n != fault
                        && lazy.get(i + n)[0] == lazy.get(i)[0] + (long) n * PAGE) {
                    n++;
                }
                ask(s, in, lazy.get(i)[0], n, lazy.get(i)[1]);
                i += n;
            }
            s.getOutputStream().write(PageServerCodec.encode(PageServerMessage.close()));
            assertEquals(0, in.readInt());
        }
    }

    private static void ask(Socket s, DataInputStream in, long vaddr, int n, long fileIndex) throws Exception {
        s.getOutputStream().write(PageServerCodec.encode(PageServerMessage.get(PID, vaddr, n)));
        byte[] header = new byte[PageServerCodec.HEADER_BYTES];
        in.readFully(header);
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        b.getInt();
        assertEquals(n, b.getInt(), "pages in the answer");
        assertEquals(vaddr, b.getLong());
        byte[] got = new byte[n * PAGE];
        in.readFully(got);
        assertArrayEquals(Arrays.copyOfRange(pages, (int) fileIndex * PAGE, (int) (fileIndex + n) * PAGE), got,
                () -> "the pages at 0x" + Long.toHexString(vaddr));
    }

    private static CompletableFuture<Boolean> serve(PageServerListener listener, LazyPageServer server) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.serve(listener.tryAccept(Duration.ofSeconds(10)));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static LazyPageServer server(ByteArrayOutputStream log) {
        return new LazyPageServer(StoredImage.open(client, "job/ahead"),
                PageServerLimits.DEFAULT.withBuffers(BOUND, 0), new PrintStream(log, true));
    }

    @Test
    void aWalkInSmallRequestsIsAnsweredMostlyFromPagesReadAheadWithinTheBound() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        LazyPageServer server = server(log);
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0,
                PageServerLimits.DEFAULT, 2)) {
            CompletableFuture<Boolean> served = serve(listener, server);
            walk(listener.port());
            assertTrue(served.get(30, TimeUnit.SECONDS), log.toString());
        }
        assertEquals(2200, server.pagesServed());
        assertTrue(server.pagesFromReadAhead() > 2000, () -> "only " + server.pagesFromReadAhead() + " of 2200 pages "
                + "were answered from read-ahead");
        assertTrue(server.readAheadPeakBytes() > 0 && server.readAheadPeakBytes() <= BOUND,
                () -> "read ahead at most " + server.readAheadPeakBytes() + " bytes");
        assertEquals(0, server.readAheadHeldBytes(), "a restore that ended holds nothing read ahead");
    }

    @Test
    void twoRestoresAtOnceEachGetEveryByteAndShareTheBound() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        LazyPageServer server = server(log);
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0,
                PageServerLimits.DEFAULT, 2)) {
            CompletableFuture<Boolean> first = serve(listener, server);
            CompletableFuture<Boolean> second = serve(listener, server);
            CompletableFuture<Void> a = CompletableFuture.runAsync(() -> walkUnchecked(listener.port()));
            CompletableFuture<Void> b = CompletableFuture.runAsync(() -> walkUnchecked(listener.port()));
            a.get(60, TimeUnit.SECONDS);
            b.get(60, TimeUnit.SECONDS);
            assertTrue(first.get(30, TimeUnit.SECONDS) && second.get(30, TimeUnit.SECONDS), log.toString());
        }
        assertEquals(4400, server.pagesServed());
        assertTrue(server.pagesFromReadAhead() > 4000, () -> "only " + server.pagesFromReadAhead() + " from read-ahead");
        assertTrue(server.readAheadPeakBytes() <= BOUND, () -> "read ahead " + server.readAheadPeakBytes() + " bytes");
        assertEquals(0, server.readAheadHeldBytes());
    }

    private static void walkUnchecked(int port) {
        try {
            walk(port);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
