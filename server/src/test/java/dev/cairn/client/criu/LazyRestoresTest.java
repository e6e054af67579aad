package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Several lazy restores of one stored image at once, and a node of the 3-node cluster lost in the
 * middle of a restore: {@code criu lazy-pages} clients built from the codec, over real loopback
 * sockets, against a real in-process cluster. Each conversation is answered on its own, in any
 * order relative to the others, and every answer is the stored bytes.
 */
class LazyRestoresTest {

    private static final int PAGE = PageServerCodec.PAGE_BYTES;
    private static final long PID = 77;
    private static final long BASE = 0x7f10_0000_0000L;
    /** One lazy|present entry of this many pages: each is its own chunk, so every GET below reads other chunks. */
    private static final int PAGES = 64;

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;
    static byte[] pages;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        PagemapImage pagemap = new PagemapImage(65_541, 200);
        pagemap.add(BASE, PAGES, PageFlags.LAZY | PageFlags.PRESENT);
        pages = new byte[PAGES * PAGE];
        new Random(77).nextBytes(pages);
        Path image = Files.createDirectories(dir.resolve("dump"));
        Files.write(image.resolve("pagemap-77.img"), pagemap.bytes());
        Files.write(image.resolve("pages-65541.img"), pages);
        Files.writeString(image.resolve("core-77.img"), "not pages");
        client.put("job/many", image);
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

    /** One lazy-pages connection: sends GETs and reads their answers. */
    private static final class LazyPages implements AutoCloseable {
        final Socket socket;
        final DataInputStream in;

        LazyPages(int port) throws Exception {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(30_000);
            in = new DataInputStream(socket.getInputStream());
        }

        /** Asks for {@code count} pages from page {@code first} and checks the answer is exactly those stored bytes. */
        void getAndCheck(int first, int count) throws Exception {
            socket.getOutputStream().write(PageServerCodec.encode(PageServerMessage.get(PID, BASE + (long) first * PAGE, count)));
            socket.getOutputStream().flush();
            byte[] header = new byte[PageServerCodec.HEADER_BYTES];
            in.readFully(header);
            ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(PageServerCommand.ADD_F.code() | PageFlags.PRESENT << 16, b.getInt(0));
            assertEquals(count, b.getInt(4));
            assertEquals(BASE + (long) first * PAGE, b.getLong(8));
            assertEquals(PID, b.getLong(16));
            byte[] got = new byte[count * PAGE];
            in.readFully(got);
            assertArrayEquals(Arrays.copyOfRange(pages, first * PAGE, (first + count) * PAGE), got,
                    "pages " + first + ".." + (first + count - 1));
        }

        void close(boolean expectAnswer) throws Exception {
            socket.getOutputStream().write(PageServerCodec.encode(PageServerMessage.close()));
            socket.getOutputStream().flush();
            if (expectAnswer) {
                assertEquals(0, in.readInt());
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }

    private static CompletableFuture<LazyRestores.Outcome> serveInBackground(PageServerListener listener,
            LazyPageServer server, int restores, PageServerLimits limits, ByteArrayOutputStream log) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return LazyRestores.serve(listener, server, restores, limits, new PrintStream(log, true));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void fourRestoresAreServedAtOnceEachOnItsOwnConnection() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        LazyPageServer server = new LazyPageServer(StoredImage.open(client, "job/many"), PageServerLimits.DEFAULT,
                new PrintStream(log, true));
        PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT, 4);
        CompletableFuture<LazyRestores.Outcome> served = serveInBackground(listener, server, 4, PageServerLimits.DEFAULT, log);
        List<LazyPages> restores = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                restores.add(new LazyPages(listener.port()));
            }
            // The last restore to connect is answered while the first three are still open and
            // silent: a server that took one conversation at a time would wait for the first.
            for (int i = 3; i >= 0; i--) {
                restores.get(i).getAndCheck(i * 8, 4);
            }
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 4; i++) {
                    restores.get(i).getAndCheck((i * 8 + 4 + round * 13) % (PAGES - 3), 3);
                }
            }
            for (LazyPages r : restores) {
                r.close(true);
            }
        } finally {
            for (LazyPages r : restores) {
                r.close();
            }
        }
        LazyRestores.Outcome outcome = served.get(30, TimeUnit.SECONDS);
        assertEquals(new LazyRestores.Outcome(4, 0), outcome, log.toString());
        assertEquals(16, server.requests());
        assertEquals(4 * 4 + 12 * 3, server.pagesServed());
    }

    @Test
    void aRestoreThatFailsDoesNotStopTheOthersAndIsCounted() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        LazyPageServer server = new LazyPageServer(StoredImage.open(client, "job/many"), PageServerLimits.DEFAULT,
                new PrintStream(log, true));
        PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT, 2);
        CompletableFuture<LazyRestores.Outcome> served = serveInBackground(listener, server, 2, PageServerLimits.DEFAULT, log);
        try (LazyPages broken = new LazyPages(listener.port()); LazyPages whole = new LazyPages(listener.port())) {
            broken.getAndCheck(0, 1);
            broken.socket.close(); // lazy-pages died before its close
            whole.getAndCheck(1, 2);
            whole.close(true);
        }
        assertEquals(new LazyRestores.Outcome(2, 1), served.get(30, TimeUnit.SECONDS));
        assertTrue(log.toString().contains("without PS_IOV_CLOSE"), log.toString());
    }

    @Test
    void restoresPastTheCapWaitTheirTurnAndAreThenServed() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PageServerLimits one = PageServerLimits.of(dev.cairn.config.PageServerConfig.DEFAULT.withMaxLazyRestores(1));
        LazyPageServer server = new LazyPageServer(StoredImage.open(client, "job/many"), one, new PrintStream(log, true));
        PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, one, 2);
        CompletableFuture<LazyRestores.Outcome> served = serveInBackground(listener, server, 2, one, log);
        try (LazyPages first = new LazyPages(listener.port()); LazyPages second = new LazyPages(listener.port())) {
            first.getAndCheck(0, 2);
            // the second connection waits in the listen queue while the first holds the one slot
            first.close(true);
            second.getAndCheck(2, 2);
            second.close(true);
        }
        assertEquals(new LazyRestores.Outcome(2, 0), served.get(30, TimeUnit.SECONDS), log.toString());
    }

    @Test
    void aLimitOutsideItsRangeIsRefusedNamingItAndItsDefault() {
        CliTest.Run r = CliTest.cairn("criu", "lazy-pages", "job/many", "--cluster", cluster.endpoints(),
                "--images-dir", dir.resolve("never").toString(), "--max-lazy-restores", "0");
        assertEquals(1, r.code(), r.err());
        assertEquals("cairn: page server maxLazyRestores must be 1..1024, not 0; 16 is the default", r.err().strip());
        assertTrue(Files.notExists(dir.resolve("never")), "nothing is written before the limits are checked");
    }
}
