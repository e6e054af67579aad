package dev.cairn.server.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.engine.ChunkData;
import dev.cairn.protocol.ChunkMessages;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.replication.ClientTraffic;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreOptions;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol port on real loopback sockets: a client that never reads its answers cannot make the
 * node hold more than its connection's budget, other clients are still served meanwhile, and
 * connections beyond the cap are closed.
 */
class ProtocolServerTest {

    private static final int MAX = Limits.DEFAULT_MAX_FRAME_BYTES;
    private static final long CONNECTION_BUDGET = MAX;
    private static final long NODE_BUDGET = 3L * MAX;
    private static final int MAX_CONNECTIONS = 3;
    private static final int HOG_REQUESTS = 200;
    private static final int TIMEOUT_MS = 10_000;

    @TempDir
    Path dir;

    private ChunkStore store;
    private GcNode gc;
    private RequestHandler handler;
    private ProtocolServer server;
    private NodeMetrics metrics;
    private InetSocketAddress address;

    @BeforeEach
    void startNode() throws Exception {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", 1, 2, 3);
        Limits limits = new Limits(MAX, Limits.DEFAULT_MAX_CHUNK_BYTES, MAX_CONNECTIONS, CONNECTION_BUDGET, NODE_BUDGET);
        NodeConfig config = new NodeConfig("node-1", dir, Quorum.defaultFor(1), List.of(self), limits);
        store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults());
        gc = GcNode.open("node-1", dir.resolve("gc"), store);
        handler = new RequestHandler(config, store, null, null, gc, null, new NodeMetrics(), new ClientTraffic());
        metrics = new NodeMetrics();
        server = new ProtocolServer(handler, limits, metrics);
        address = server.start("127.0.0.1", 0);
    }

    @AfterEach
    void stopNode() throws Exception {
        server.close();
        gc.close();
        store.close();
    }

    @Test
    void aClientThatNeverReadsItsAnswersHoldsNoMoreThanItsBudgetAndOthersAreStillServed() throws Exception {
        byte[] bytes = new byte[1 << 20];
        new Random(1).nextBytes(bytes);
        ChunkData chunk = ChunkData.raw(bytes);
        handler.localChunks().put(List.of(chunk)).join();

        try (Socket hog = new Socket()) {
            hog.setReceiveBufferSize(4096); // takes almost nothing: the answers stay in the node
            hog.connect(address);
            // 200 reads of a 1 MiB chunk: without budgets the node would queue 200 MiB of answers.
            Thread sender = new Thread(() -> {
                try {
                    OutputStream out = hog.getOutputStream();
                    for (int i = 1; i <= HOG_REQUESTS; i++) {
                        out.write(frame(MessageType.GET_CHUNKS, i, ChunkMessages.encodeIds(List.of(chunk.id()))));
                    }
                    out.flush();
                } catch (IOException ignored) {
                    // the node may close the socket when the test ends; nothing to check here
                }
            }, "hog-sender");
            sender.setDaemon(true);
            sender.start();

            // Bounded poll: the most the node holds while the hog's requests keep coming, and until
            // the node has held it unchanged for 50 samples (it has stopped reading the hog).
            long most = 0;
            long last = -1;
            int unchanged = 0;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (unchanged < 50 && System.nanoTime() < deadline) {
                long now = server.inFlightBytes();
                most = Math.max(most, now);
                unchanged = now == last && now > 0 ? unchanged + 1 : 0;
                last = now;
                Thread.sleep(10); // sampling a gauge with a deadline, not waiting for luck
            }
            assertTrue(most > 0, "the hog's first read is held while its answer waits");
            // A connection with nothing in flight may run one request whatever its size: the budget
            // plus that request's own bytes.
            assertTrue(most <= CONNECTION_BUDGET + 64 * 1024, "the node held " + most
                    + " bytes for one connection, over its budget of " + CONNECTION_BUDGET);

            // Meanwhile another client is served.
            try (Socket other = connect()) {
                other.getOutputStream().write(frame(MessageType.HAS_CHUNKS, 7, ChunkMessages.encodeIds(List.of(chunk.id()))));
                Frame answer = readFrame(other);
                assertEquals(MessageType.HAS_CHUNKS, answer.type());
                assertEquals(7, answer.requestId());
            }
            assertTrue(server.inFlightBytes() <= NODE_BUDGET, "held " + server.inFlightBytes());
        }
    }

    @Test
    void connectionsBeyondTheCapAreClosedAndOneIsAcceptedAgainWhenAnotherCloses() throws Exception {
        Socket[] open = new Socket[MAX_CONNECTIONS];
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                open[i] = connect();
                assertServed(open[i], i + 1);
            }
            try (Socket extra = connect()) {
                assertEquals(-1, extra.getInputStream().read(), "the connection over the cap is closed by the node");
            }
            assertEquals(1, metrics.registry().meter("cairn_net_connections_refused").getCount(), "the refusal is counted");
            open[0].close();
            // The node counts the closed connection down as it notices; poll (bounded) for room.
            long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
            while (server.openConnections() >= MAX_CONNECTIONS && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            try (Socket again = connect()) {
                assertServed(again, 42);
            }
        } finally {
            for (Socket s : open) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(address, TIMEOUT_MS);
        s.setSoTimeout(TIMEOUT_MS);
        return s;
    }

    private static void assertServed(Socket s, long requestId) throws IOException {
        s.getOutputStream().write(frame(MessageType.HAS_CHUNKS, requestId, ChunkMessages.encodeIds(List.of())));
        try {
            assertEquals(requestId, readFrame(s).requestId());
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer within " + TIMEOUT_MS + " ms", e);
        }
    }

    private static byte[] frame(MessageType type, long requestId, ByteBuffer header) {
        ByteBuffer encoded = Frame.request(type, requestId, header, null).encode(MAX);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        return bytes;
    }

    private static Frame readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        int length = in.readInt();
        byte[] body = new byte[length];
        in.readFully(body);
        return Frame.decodeBody(ByteBuffer.wrap(body), MAX);
    }
}
