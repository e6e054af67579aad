package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.placement.Placement;
import dev.cairn.engine.ChunkData;
import dev.cairn.server.store.ChunkCorruptException;
import dev.cairn.server.store.ChunkStore;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hedged chunk reads on a real 3-node cluster (N=3, N_R=2): a stalled or stopped replica costs a
 * hedge delay, not a request timeout, and replicas that answered missing or corrupt get the
 * verified copy back (read-repair).
 */
class HedgedReadTest {

    /** Every chunk is read within this, while the stalled node holds its answers for far longer. */
    static final Duration GET_BOUND = Duration.ofSeconds(5);
    /** Longer than the client's request timeout: the stalled node never answers in time. */
    static final Duration STALL = ClientConfig.DEFAULT_REQUEST_TIMEOUT.plusSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aGetRoutesAroundAStalledReplicaWellWithinTheRequestTimeout() throws Exception {
        byte[] data = TestImages.random(21, 8 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("hedged/stalled", new ByteArrayInputStream(data));
            // Node-2 answers chunk reads only after 60 s; it is the node asked first by about a third of the fetches.
            cluster.server(1).delayChunkReads(STALL);
            try (CairnClient reader = cluster.client()) {
                long start = System.nanoTime();
                byte[] back = TestImages.read(reader, "hedged/stalled");
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                System.out.println("8 MiB get with one replica stalled for " + STALL.toSeconds() + " s: " + took.toMillis() + " ms");
                assertArrayEquals(data, back);
                assertTrue(took.compareTo(GET_BOUND) < 0, "the get took " + took.toMillis() + " ms with one replica"
                        + " stalled; hedging should have asked the next replica after tens of ms");
            } finally {
                cluster.server(1).delayChunkReads(Duration.ZERO);
            }
        }
    }

    @Test
    void aGetReadsFromTheNextReplicaWhenThePreferredOneIsDown() throws Exception {
        byte[] data = TestImages.random(22, 4 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("hedged/down", new ByteArrayInputStream(data));
            // Sanity: some chunks of the image have node-1 as their first replica.
            firstChunkWhoseFirstReplicaIs(cluster, "node-1");
            cluster.stopNode(0);
            cluster.awaitRunningLeader();
            try (CairnClient reader = CairnClient.connect(ClientConfig.parse(cluster.config(1).self().endpoint()))) {
                long start = System.nanoTime();
                assertArrayEquals(data, TestImages.read(reader, "hedged/down"));
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                System.out.println("4 MiB get with node-1 stopped: " + took.toMillis() + " ms");
                assertTrue(took.compareTo(GET_BOUND) < 0, "the get took " + took.toMillis() + " ms with node-1 down");
            }
        }
    }

    @Test
    void aReplicaThatAnsweredMissingGetsTheChunkBack() throws Exception {
        byte[] data = TestImages.random(23, 3 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("hedged/missing", new ByteArrayInputStream(data));
            // A fetch asks one node first for all its chunks (which one turns from fetch to fetch):
            // each node loses a different chunk of the one fetch, so the node asked first answers
            // "missing" for its own.
            List<ChunkId> lost = oneDataChunkPerNode(cluster);
            for (int node = 0; node < 3; node++) {
                assertTrue(cluster.server(node).store().delete(lost.get(node)));
            }

            assertArrayEquals(data, TestImages.read(client, "hedged/missing"));
            // The repair is sent in the background once the batch is read: wait for it, bounded.
            awaitTrue(() -> java.util.stream.IntStream.range(0, 3)
                            .anyMatch(node -> cluster.server(node).store().contains(lost.get(node))),
                    "the node asked first got its lost chunk back");
        }
    }

    @Test
    void aCorruptCopyFoundByAReadIsReplacedWithTheVerifiedOne() throws Exception {
        byte[] data = TestImages.random(24, 2 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("hedged/corrupt", new ByteArrayInputStream(data));
            // Each node has a different chunk of the one fetch damaged; the node asked first answers
            // "corrupt" for its own, and the next replica's copy repairs it.
            List<ChunkId> damaged = oneDataChunkPerNode(cluster);
            for (int node = 0; node < 3; node++) {
                flipOneByteOf(damaged.get(node), cluster.server(node).store(), cluster.config(node).dataDir().resolve("chunks"));
                assertEquals(1, corruptChunks(cluster.server(node).store()), "one copy on node-" + (node + 1) + " is damaged");
            }
            assertArrayEquals(data, TestImages.read(client, "hedged/corrupt"));
            // Checked on the stores directly: a scrub would repair the copies itself.
            awaitTrue(() -> java.util.stream.IntStream.range(0, 3).anyMatch(node -> corruptChunks(cluster.server(node).store()) == 0),
                    "the corrupt copy of the node asked first was replaced by the read-repair");
        }
    }

    /**
     * Three distinct data chunks of the cluster's one image (over 16 KiB: FastCDC's minimum, more
     * than the image's manifest), the i-th for node i to lose. An image of at most 4 MiB is read in
     * one fetch.
     */
    private static List<ChunkId> oneDataChunkPerNode(TestCluster cluster) {
        List<ChunkId> data = cluster.server(0).store().idsAfter(null, 10_000).stream().filter(id -> {
            try {
                return cluster.server(0).store().read(id).orElseThrow().rawLength() > 16 * 1024;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).limit(3).toList();
        assertEquals(3, data.size(), "the image has three data chunks");
        return data;
    }

    /** A chunk of the cluster whose placement puts {@code node} first. */
    private static ChunkId firstChunkWhoseFirstReplicaIs(TestCluster cluster, String node) {
        Placement placement = new Placement(List.of("node-1", "node-2", "node-3"));
        return cluster.server(Integer.parseInt(node.substring("node-".length())) - 1).store().idsAfter(null, 10_000).stream()
                .filter(id -> placement.nodesFor(id, 3).get(0).equals(node))
                .findFirst().orElseThrow();
    }

    /** How many of the store's chunks fail their CRC or hash when read. */
    private static long corruptChunks(ChunkStore store) {
        return store.idsAfter(null, 100_000).stream().filter(id -> {
            try {
                return !store.read(id).map(ChunkData::verify).orElse(true);
            } catch (ChunkCorruptException e) {
                return true;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).count();
    }

    /** Finds the chunk's stored bytes in the node's segment files and flips one byte in their middle. */
    private static void flipOneByteOf(ChunkId id, ChunkStore store, Path chunks) throws Exception {
        ChunkData chunk = store.read(id).orElseThrow();
        byte[] stored = new byte[chunk.storedLength()];
        chunk.bytes().duplicate().get(stored);
        byte[] needle = java.util.Arrays.copyOfRange(stored, stored.length / 2, stored.length / 2 + 64);
        List<Path> segments;
        try (Stream<Path> files = Files.walk(chunks)) {
            segments = files.filter(p -> p.toString().endsWith(".seg")).toList();
        }
        for (Path segment : segments) {
            byte[] bytes = Files.readAllBytes(segment);
            for (int at = 0; at + needle.length <= bytes.length; at++) {
                if (java.util.Arrays.equals(bytes, at, at + needle.length, needle, 0, needle.length)) {
                    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
                        ch.write(ByteBuffer.wrap(new byte[] {(byte) (bytes[at] ^ 0x5a)}), at);
                    }
                    return;
                }
            }
        }
        throw new AssertionError("chunk " + id.shortHex() + " not found in the segments");
    }

    /** Polls a condition every 50 ms for at most 10 s. */
    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within 10 s: " + what);
            Thread.sleep(50);
        }
    }
}
