package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.engine.ChunkData;
import dev.cairn.server.CairnServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node's configured chunk limit reaches its store: every path that writes chunks is bounded by it. */
class NodeChunkLimitTest {

    private static final int LIMIT = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void aNodeConfiguredWithASmallerChunkLimitRefusesALargerChunkAtItsStore() throws Exception {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", TestPorts.free(), TestPorts.free(), TestPorts.free());
        NodeConfig config = new NodeConfig("node-1", dir.resolve("node-1"), Quorum.defaultFor(1), List.of(self),
                new Limits(Limits.DEFAULT_MAX_FRAME_BYTES, LIMIT));
        byte[] large = new byte[LIMIT + 1];
        new Random(7).nextBytes(large);
        byte[] small = new byte[LIMIT];
        new Random(8).nextBytes(small);
        try (CairnServer server = CairnServer.start(config)) {
            CompletionException refused = assertThrows(CompletionException.class,
                    () -> server.store().append(List.of(ChunkData.raw(large))).join());
            assertTrue(refused.getCause().getMessage().contains("more than this store's limit of " + LIMIT),
                    refused.getCause().getMessage());
            server.store().append(List.of(ChunkData.raw(small))).join();
            assertEquals(1, server.store().chunkCount(), "the chunk at the limit is stored, the larger one is not");
        }
    }
}
