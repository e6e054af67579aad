package dev.cairn.server.replication;

import dev.cairn.protocol.ChunkMessages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.engine.ChunkData;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.net.RequestHandler;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node counts puts and gets of chunks as client traffic, which its scheduled repair passes yield
 * to, but not the HAS questions of its peers' repair passes: two nodes' passes must not hold each
 * other back. A real store behind a real request handler.
 */
class ClientTrafficTest {

    @TempDir
    Path dir;

    @Test
    void putsAndGetsOfChunksAreClientTrafficAndPresenceQuestionsAreNot() throws Exception {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", 1, 2, 3);
        NodeConfig config = new NodeConfig("node-1", dir, Quorum.defaultFor(1), List.of(self), Limits.defaults());
        ClientTraffic traffic = new ClientTraffic();
        try (ChunkStore store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults());
             GcNode gc = GcNode.open("node-1", dir.resolve("gc"), store)) {
            RequestHandler handler = new RequestHandler(config, store, null, null, gc, null, new NodeMetrics(), traffic);
            ChunkData chunk = ChunkData.raw("a page of a checkpoint".getBytes(StandardCharsets.UTF_8));

            assertEquals(MessageType.HAS_CHUNKS, handle(handler, Frame.request(MessageType.HAS_CHUNKS, 1,
                    ChunkMessages.encodeIds(List.of(chunk.id())), ByteBuffer.allocate(0))));
            assertNull(traffic.quietFor(), "a HAS question is not client traffic");

            assertEquals(MessageType.PUT_CHUNKS, handle(handler, Frame.request(MessageType.PUT_CHUNKS, 2,
                    ChunkMessages.encodeChunkHeader(List.of(chunk)), chunk.bytes().duplicate())));
            assertNotNull(traffic.quietFor(), "a put is");

            ClientTraffic readTraffic = new ClientTraffic();
            RequestHandler reader = new RequestHandler(config, store, null, null, gc, null, new NodeMetrics(), readTraffic);
            assertEquals(MessageType.GET_CHUNKS, handle(reader, Frame.request(MessageType.GET_CHUNKS, 3,
                    ChunkMessages.encodeIds(List.of(chunk.id())), ByteBuffer.allocate(0))));
            assertNotNull(readTraffic.quietFor(), "a get is");
        }
    }

    private static MessageType handle(RequestHandler handler, Frame request) {
        return handler.handle(request).join().type();
    }
}
