package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.protocol.transport.WireAllocator;
import io.netty.buffer.PoolArenaMetric;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chunk protocol's frames, on nodes and client alike, come from {@link WireAllocator}'s pool
 * even when they are megabytes long, and every one of them goes back to it: once the cluster and
 * the client are closed, no buffer of the pool is still in use. A pooled buffer that is never
 * released is never freed either, so this is the protocol's leak check too. A node exports what
 * the pool holds as {@code cairn_net_buffer_pool_bytes}.
 */
class WireAllocatorTest {

    @TempDir
    Path dir;

    @Test
    void framesOfMegabytesArePooledAndAllReturned() throws Exception {
        long hugeBefore = sum(PoolArenaMetric::numHugeAllocations);
        long normalBefore = sum(PoolArenaMetric::numNormalAllocations);
        long activeBefore = activeAllocations();

        // Random bytes do not compress: their chunks travel alone, in PUT_CHUNKS frames of up to
        // 4 MiB, and come back in GET_CHUNKS answers of several MiB.
        byte[] image = TestImages.random(7, 24 * 1024 * 1024 + 5);
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            try (CairnClient client = cluster.client()) {
                client.put("wire/big", new ByteArrayInputStream(image));
                assertArrayEquals(image, TestImages.read(client, "wire/big"));
            }
            assertTrue(cluster.awaitSameChunkCounts(java.time.Duration.ofSeconds(30)), "every node holds every chunk");
            // The pool keeps the chunks it has used (this process's nodes and client share it).
            assertTrue(HttpEndpointsTest.value(HttpEndpointsTest.scrape(cluster, 1), "cairn_net_buffer_pool_bytes")
                    >= WireAllocator.chunkBytes(), "the pool's chunks are exported");
        }

        assertEquals(hugeBefore, sum(PoolArenaMetric::numHugeAllocations), "no frame was too large for the pool");
        assertTrue(sum(PoolArenaMetric::numNormalAllocations) > normalBefore, "frames were taken from the pool");
        assertAllReturned(activeBefore);
    }

    /** The pool's buffers in use now, across its arenas. */
    static long activeAllocations() {
        return sum(PoolArenaMetric::numActiveAllocations);
    }

    /** Asserts that the pool has as many buffers in use as {@code before}, once the closing threads are gone. */
    static void assertAllReturned(long before) throws InterruptedException {
        // Threads hand their cached buffers back as they end, just after their group says it has terminated.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (activeAllocations() != before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(before, activeAllocations(), "pooled buffers still in use after close");
    }

    private static long sum(ToLongFunction<PoolArenaMetric> metric) {
        return WireAllocator.INSTANCE.metric().directArenas().stream().mapToLong(metric).sum();
    }
}
