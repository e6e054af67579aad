package dev.cairn.server.store;

import dev.cairn.protocol.ChunkMessages;
import static dev.cairn.server.store.TestChunks.pages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.protocol.LocalChunks;
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
import dev.cairn.server.net.RequestHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose disk failed answers PUT_CHUNKS with STORAGE_FAILED, naming itself and its disk; a
 * put from its own gateway, stored in process, fails with the same words.
 */
class FailedStoreRequestTest {

    @TempDir
    Path dir;

    @Test
    void putChunksOnANodeWithAFailedDiskIsRefusedWithStorageFailed() throws Exception {
        onOneNode((handler, store, faults) -> {
            faults.failFsync = true;
            // The first PUT meets the fsync error itself, the second finds the store already failed.
            for (long seed : new long[] {1, 2}) {
                Messages.Error error = put(handler, pages(seed, 2));
                assertEquals(ErrorCode.STORAGE_FAILED, error.code());
                assertTrue(error.message().startsWith("node node-1's disk failed"), error.message());
                assertTrue(error.message().contains("Input/output error"), error.message());
            }
            assertTrue(store.isFailed());
        });
    }

    @Test
    void aPutFromTheGatewayInsideTheNodeFailsNamingTheNodeAndItsDisk() throws Exception {
        onOneNode((handler, store, faults) -> {
            LocalChunks local = handler.localChunks();
            local.put(pages(1, 2)).join();
            assertEquals(ChunkMessages.ABSENT, local.storedLengths(List.of(pages(3, 1).get(0).id()))[0]);
            assertTrue(local.storedLengths(List.of(pages(1, 2).get(0).id()))[0] > 0, "stored in process");

            faults.failFsync = true;
            // The first put meets the fsync error itself, the second finds the store already failed.
            for (long seed : new long[] {2, 3}) {
                CompletionException failed = assertThrows(CompletionException.class, () -> local.put(pages(seed, 2)).join());
                String message = failed.getCause().getMessage();
                assertTrue(message.startsWith("node node-1's disk failed"), message);
                assertTrue(message.contains("Input/output error"), message);
            }
        });
    }

    private interface NodeTest {
        void run(RequestHandler handler, ChunkStore store, FaultyFileChannel.Faults faults) throws Exception;
    }

    /** A one-node config, a store whose disk faults the test sets, its GC node and request handler. */
    private void onOneNode(NodeTest test) throws Exception {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", 1, 2, 3);
        NodeConfig config = new NodeConfig("node-1", dir, Quorum.defaultFor(1), List.of(self), Limits.defaults());
        FaultyFileChannel.Faults faults = new FaultyFileChannel.Faults(1);
        try (ChunkStore store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults(),
                SegmentWriter.FDATASYNC, faults.opener(), Compactor.NO_HOOK);
             GcNode gc = GcNode.open("node-1", dir.resolve("gc"), store)) {
            test.run(new RequestHandler(config, store, null, null, gc, null,
                    new dev.cairn.server.metrics.NodeMetrics(), new dev.cairn.server.replication.ClientTraffic()), store, faults);
        }
    }

    private static Messages.Error put(RequestHandler handler, List<ChunkData> chunks) throws IOException {
        int total = chunks.stream().mapToInt(ChunkData::storedLength).sum();
        ByteBuffer payload = ByteBuffer.allocate(total);
        chunks.forEach(c -> payload.put(c.bytes().duplicate()));
        payload.flip();
        Frame request = Frame.request(MessageType.PUT_CHUNKS, 7, ChunkMessages.encodeChunkHeader(chunks), payload);
        RequestHandler.Response response = handler.handle(request).join();
        assertEquals(MessageType.ERROR, response.type());
        return Messages.Error.decode(response.header());
    }
}
