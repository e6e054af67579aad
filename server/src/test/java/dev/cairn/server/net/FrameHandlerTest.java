package dev.cairn.server.net;

import dev.cairn.protocol.ChunkMessages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.engine.ChunkData;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.replication.ClientTraffic;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol port's frame handler on an embedded channel, in front of a real request handler and
 * store: what it answers, when it closes, and that it releases every request's buffer once.
 */
class FrameHandlerTest {

    private static final int MAX = Limits.defaults().maxFrameBytes();
    /** No build has used this code; a future one might. */
    private static final int FUTURE_TYPE = 0x7e;

    @TempDir
    Path dir;

    private ChunkStore store;
    private GcNode gc;
    private RequestHandler handler;
    /** The worker pool, run by the test: a request stays pending until {@link #runWorkers}. */
    private final Queue<Runnable> workers = new ArrayDeque<>();
    private EmbeddedChannel channel;

    @BeforeEach
    void openNode() throws Exception {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", 1, 2, 3);
        NodeConfig config = new NodeConfig("node-1", dir, Quorum.defaultFor(1), List.of(self), Limits.defaults());
        store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults());
        gc = GcNode.open("node-1", dir.resolve("gc"), store);
        handler = new RequestHandler(config, store, null, null, gc, null, new NodeMetrics(), new ClientTraffic());
        channel = connection(new InFlightBudget(Limits.DEFAULT_MAX_IN_FLIGHT_BYTES), Limits.DEFAULT_MAX_IN_FLIGHT_BYTES_PER_CONNECTION);
    }

    @AfterEach
    void closeNode() throws Exception {
        channel.finishAndReleaseAll();
        gc.close();
        store.close();
    }

    @Test
    void aRequestIsAnsweredWithItsIdAndItsBufferIsReleasedOnlyThen() {
        ChunkData chunk = ChunkData.raw("a page of a checkpoint".getBytes(StandardCharsets.UTF_8));
        handler.localChunks().put(List.of(chunk)).join();
        ByteBuf request = body(Frame.request(MessageType.GET_CHUNKS, 5, ChunkMessages.encodeIds(List.of(chunk.id())), null));

        channel.writeInbound(request);
        assertEquals(1, request.refCnt(), "held while the request waits for a worker");
        assertNull(channel.readOutbound());
        runWorkers();

        Frame answer = readAnswer();
        assertEquals(MessageType.GET_CHUNKS, answer.type());
        assertTrue(answer.response());
        assertEquals(5, answer.requestId());
        assertEquals(chunk.bytes(), answer.payload());
        assertEquals(0, request.refCnt());
        assertTrue(channel.isOpen());
    }

    @Test
    void aFrameShorterThanItsFixedFieldsClosesTheConnection() {
        ByteBuf request = Unpooled.directBuffer().writeBytes(new byte[] {3, 0, 0});
        channel.writeInbound(request);
        assertFalse(channel.isOpen());
        assertNull(channel.readOutbound(), "nobody to answer");
        assertEquals(0, request.refCnt());
    }

    @Test
    void aHeaderLongerThanItsFrameClosesTheConnection() {
        ByteBuf request = body(Frame.request(MessageType.HAS_CHUNKS, 6, ByteBuffer.allocate(8), null));
        request.setInt(1 + 8, 1000); // the header length field
        channel.writeInbound(request);
        assertFalse(channel.isOpen());
        assertEquals(0, request.refCnt());
    }

    @Test
    void anUnknownTypeIsAnsweredAndTheConnectionStaysOpen() {
        ByteBuf request = body(Frame.request(MessageType.CLUSTER_INFO, 42, null, null));
        request.setByte(0, FUTURE_TYPE);
        channel.writeInbound(request);

        Frame answer = readAnswer();
        assertEquals(MessageType.ERROR, answer.type());
        assertEquals(42, answer.requestId());
        Messages.Error error = Messages.Error.decode(answer.header());
        assertEquals(ErrorCode.BAD_REQUEST, error.code());
        assertTrue(error.message().contains("unknown message type " + FUTURE_TYPE)
                && error.message().contains("upgrade the node"), error.message());
        assertEquals(0, request.refCnt());
        assertTrue(channel.isOpen());
        assertTrue(workers.isEmpty(), "no worker is needed to refuse it");
    }

    @Test
    void aResponseFrameSentToTheServerIsRefused() {
        ByteBuf request = body(Frame.response(MessageType.HAS_CHUNKS, 7, ChunkMessages.encodeIds(List.of()), null));
        channel.writeInbound(request);

        Frame answer = readAnswer();
        assertEquals(MessageType.ERROR, answer.type());
        assertEquals(7, answer.requestId());
        assertEquals("bad request: a response frame was sent to a server", Messages.Error.decode(answer.header()).message());
        assertEquals(0, request.refCnt());
        assertTrue(channel.isOpen());
    }

    @Test
    void aRequestTheHandlerRefusesIsAnsweredWithAnErrorAndReleased() {
        ByteBuf request = body(Frame.request(MessageType.HAS_CHUNKS, 8, ByteBuffer.wrap(new byte[] {0, 0, 7}), null));
        channel.writeInbound(request);
        runWorkers();

        Frame answer = readAnswer();
        assertEquals(MessageType.ERROR, answer.type());
        assertEquals(8, answer.requestId());
        assertEquals(ErrorCode.BAD_REQUEST, Messages.Error.decode(answer.header()).code());
        assertEquals(0, request.refCnt());
        assertTrue(channel.isOpen());
    }

    @Test
    void anIdleConnectionIsClosed() {
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertFalse(channel.isOpen());
    }

    @Test
    void aConnectionWhoseBudgetIsFullIsNotReadUntilItsAnswerIsWritten() {
        ChunkData chunk = storedChunk();
        channel.close();
        // A budget of one frame holds one chunk read at a time: each is counted at the largest answer.
        channel = connection(new InFlightBudget(4L * MAX), MAX);
        ByteBuf first = getChunks(1, chunk);
        ByteBuf second = getChunks(2, chunk);
        channel.writeInbound(first, second);
        assertEquals(1, workers.size(), "only the first request runs");
        assertFalse(channel.config().isAutoRead(), "a request waits for room: the connection is not read");
        assertEquals(1, second.refCnt(), "the waiting request is held, not dropped");

        workers.poll().run();
        assertEquals(1, readAnswer().requestId());
        assertEquals(1, workers.size(), "the first answer written, the second request runs");
        workers.poll().run();
        assertEquals(2, readAnswer().requestId());
        assertTrue(channel.config().isAutoRead(), "nothing waits: reading again");
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());
    }

    @Test
    void aConnectionWaitingForTheNodesBudgetIsWokenWhenAnotherReleasesIt() {
        ChunkData chunk = storedChunk();
        channel.close();
        InFlightBudget node = new InFlightBudget(MAX + 1024);
        channel = connection(node, MAX);
        EmbeddedChannel other = connection(node, MAX);
        try {
            channel.writeInbound(getChunks(1, chunk));
            other.writeInbound(getChunks(2, chunk));
            assertEquals(1, workers.size(), "the node's budget holds one chunk read");
            assertFalse(other.config().isAutoRead());

            runWorkers();
            assertEquals(1, readAnswer().requestId());
            assertEquals(0, node.usedBytes(), "the first connection's bytes are given back");
            other.runPendingTasks(); // the wake-up runs on the waiting connection's event loop
            assertEquals(1, workers.size(), "the other connection's request runs now");
            runWorkers();
            Frame answer = read(other);
            assertEquals(2, answer.requestId());
            assertEquals(0, node.usedBytes(), "every byte given back once both answers are written");
            assertTrue(other.config().isAutoRead());
        } finally {
            other.finishAndReleaseAll();
        }
    }

    @Test
    void aConnectionWhoseClientDoesNotTakeItsAnswersIsNotRead() {
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        channel.runPendingTasks(); // Netty tells the pipeline on the event loop
        assertFalse(channel.config().isAutoRead(), "unwritable: stop reading requests whose answers would pile up");
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        channel.runPendingTasks();
        assertTrue(channel.config().isAutoRead());
    }

    @Test
    void requestsStillWaitingWhenTheConnectionClosesAreReleased() {
        ChunkData chunk = storedChunk();
        channel.close();
        channel = connection(new InFlightBudget(4L * MAX), MAX);
        ByteBuf first = getChunks(1, chunk);
        ByteBuf second = getChunks(2, chunk);
        channel.writeInbound(first, second);
        channel.close();
        assertEquals(0, second.refCnt(), "the waiting request is released with the connection");
        runWorkers(); // the running one is answered into a closed channel and released
        assertEquals(0, first.refCnt());
    }

    private EmbeddedChannel connection(InFlightBudget node, long connectionBytes) {
        return new EmbeddedChannel(new FrameHandler(handler, MAX, connectionBytes, node, new NodeMetrics(), workers::add));
    }

    private ChunkData storedChunk() {
        ChunkData chunk = ChunkData.raw("a page of a checkpoint".getBytes(StandardCharsets.UTF_8));
        handler.localChunks().put(List.of(chunk)).join();
        return chunk;
    }

    private static ByteBuf getChunks(long requestId, ChunkData chunk) {
        return body(Frame.request(MessageType.GET_CHUNKS, requestId, ChunkMessages.encodeIds(List.of(chunk.id())), null));
    }

    private void runWorkers() {
        for (Runnable r = workers.poll(); r != null; r = workers.poll()) {
            r.run();
        }
    }

    /** A frame as the length-field decoder hands it on: without its length field, in a direct buffer. */
    private static ByteBuf body(Frame frame) {
        ByteBuffer whole = frame.encode(MAX);
        whole.position(Frame.LENGTH_FIELD_BYTES);
        return Unpooled.directBuffer(whole.remaining()).writeBytes(whole);
    }

    private Frame readAnswer() {
        return read(channel);
    }

    private static Frame read(EmbeddedChannel from) {
        ByteBuf out = from.readOutbound();
        try {
            ByteBuffer copy = ByteBuffer.allocate(out.readableBytes());
            out.getBytes(out.readerIndex(), copy);
            return Frame.decode(copy.flip(), MAX);
        } finally {
            out.release();
        }
    }
}
