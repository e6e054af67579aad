package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.ClientConfig;
import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Messages;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The put's packs and the get's read-repair, against fake nodes on loopback sockets. */
class ChunkPacksTest {

    private final List<FakeNode> nodes = new ArrayList<>();
    private Cluster cluster;

    private void start(int nodeCount, int replicas, int writeQuorum) throws Exception {
        List<Messages.Peer> peers = new ArrayList<>();
        for (int i = 0; i < nodeCount; i++) {
            FakeNode node = new FakeNode("n" + i);
            nodes.add(node);
            peers.add(node.peer());
        }
        Messages.ClusterInfo info = new Messages.ClusterInfo("n0", replicas, writeQuorum, Math.min(2, replicas), peers);
        nodes.forEach(n -> n.serve(info));
        cluster = Cluster.connect(new ClientConfig(List.of(nodes.get(0).endpoint()), Duration.ofSeconds(10), 3), null, dev.cairn.engine.Clock.SYSTEM);
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        for (FakeNode n : nodes) {
            n.close();
        }
    }

    /** Pages of random bytes (which do not compress alone) that differ from each other in a few bytes. */
    private static List<ChunkData> similarPages(int count, long seed) {
        Random random = new Random(seed);
        byte[] base = new byte[4096];
        random.nextBytes(base);
        List<ChunkData> pages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] page = base.clone();
            for (int k = 0; k < 16; k++) {
                page[random.nextInt(page.length)] = (byte) random.nextInt();
            }
            pages.add(ChunkData.raw(page));
        }
        return pages;
    }

    private static List<ChunkId> ids(List<ChunkData> chunks) {
        return chunks.stream().map(ChunkData::id).toList();
    }

    private static List<ChunkId> memberIds(ChunkPack pack) {
        return pack.members().stream().map(ChunkPack.Member::id).toList();
    }

    private void put(List<ChunkData> chunks) {
        try (ChunkWriter writer = new ChunkWriter(cluster, 3, 2)) {
            chunks.forEach(writer::add);
            writer.finish();
        }
    }

    @Test
    void smallChunksTravelInPacksInOrderAndEveryNodeGetsEachPackWhole() throws Exception {
        start(3, 3, 2);
        List<ChunkData> pages = similarPages(40, 1);
        byte[] big = new byte[20_000]; // compresses, but is too large to join a pack
        ChunkData bigChunk = ChunkData.raw(big);
        List<ChunkData> all = new ArrayList<>(pages);
        all.add(20, bigChunk);
        long newStored;
        long uniqueStored;
        long sent;
        long newChunks;
        try (ChunkWriter writer = new ChunkWriter(cluster, 3, 2)) {
            all.forEach(writer::add);
            writer.finish();
            newStored = writer.newStoredBytes();
            uniqueStored = writer.uniqueStoredBytes();
            sent = writer.sentBytes();
            newChunks = writer.newChunks();
        }
        for (FakeNode n : nodes) {
            assertEquals(List.of(ids(pages.subList(0, 16)), ids(pages.subList(16, 32)), ids(pages.subList(32, 40))),
                    n.putPacks.stream().map(ChunkPacksTest::memberIds).toList(), "node " + n.id);
            assertEquals(List.of(bigChunk.id()), ids(n.putChunks), "node " + n.id);
            assertEquals(ChunkCodec.ZSTD, n.putChunks.get(0).codec());
            for (ChunkData c : all) {
                assertTrue(n.chunks.containsKey(c.id()), "node " + n.id + " holds every chunk");
            }
        }
        long expected = nodes.get(0).putChunks.get(0).storedLength();
        for (ChunkPack p : nodes.get(0).putPacks) {
            expected += p.storedLength();
        }
        assertEquals(41, newChunks);
        assertEquals(expected, newStored);
        assertEquals(expected, uniqueStored);
        assertEquals(3 * expected, sent, "each frame once per node");
        assertTrue(expected < 4 * 4096, "40 similar pages and 20,000 zeros in " + expected + " bytes");
    }

    @Test
    void packsNeverMixChunksOfDifferentPlacements() throws Exception {
        start(4, 2, 2);
        List<ChunkData> pages = similarPages(200, 2);
        put(pages);
        int packed = 0;
        for (FakeNode n : nodes) {
            for (ChunkPack p : n.putPacks) {
                Set<String> key = null;
                for (ChunkPack.Member m : p.members()) {
                    List<String> placement = cluster.placement().nodesFor(m.id(), 2);
                    assertTrue(placement.contains(n.id), "a member of a pack on " + n.id + " is placed on " + placement);
                    if (key == null) {
                        key = Set.copyOf(placement);
                    }
                    assertEquals(key, Set.copyOf(placement));
                }
                packed += p.members().size();
            }
        }
        assertEquals(2 * 200 - nodes.stream().mapToInt(n -> n.putChunks.size()).sum(), packed,
                "every copy travelled in a pack or alone");
        assertTrue(packed > 300, "most copies in packs: " + packed);
        for (ChunkData page : pages) {
            for (String node : cluster.placement().nodesFor(page.id(), 2)) {
                assertTrue(nodes.get(Integer.parseInt(node.substring(1))).chunks.containsKey(page.id()));
            }
        }
    }

    @Test
    void aPackCountsOnlyForTheMembersANodeLacked() throws Exception {
        start(3, 3, 3);
        List<ChunkData> pages = similarPages(2, 3);
        // n0 holds page 0 already, so it gets the pack for page 1; n1 refuses packs.
        nodes.get(0).hold(pages.get(0));
        nodes.get(1).failPacks = ErrorCode.STORAGE_FAILED;
        CairnException.QuorumUnavailable e = assertThrows(CairnException.QuorumUnavailable.class, () -> put(pages));
        assertEquals(List.of(ids(pages)), nodes.get(0).putPacks.stream().map(ChunkPacksTest::memberIds).toList());
        // Page 0: n0's earlier copy and n2's ack, not n0's ack of the pack a second time.
        assertTrue(e.getMessage().contains("quorum not met: 2 of 3 replicas acknowledged chunk "
                + pages.get(0).id().shortHex()), e.getMessage());
        assertTrue(e.getMessage().contains("node n1: ") && e.getMessage().contains("packs refused"), e.getMessage());
    }

    @Test
    void aPackThatDoesNotPayTravelsChunkByChunk() throws Exception {
        start(3, 3, 2);
        Random random = new Random(4);
        List<ChunkData> noise = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            byte[] page = new byte[4096];
            random.nextBytes(page);
            noise.add(ChunkData.raw(page));
        }
        put(noise);
        for (FakeNode n : nodes) {
            assertEquals(List.of(), n.putPacks);
            assertEquals(ids(noise), ids(n.putChunks));
            assertTrue(n.putChunks.stream().allMatch(c -> c.codec() == ChunkCodec.RAW));
        }
    }

    @Test
    void readRepairSendsACompressedCopyOfAChunkThatArrivedRaw() throws Exception {
        start(3, 3, 2);
        // A page that compresses, placed first on n0, which lacks it; n1 and n2 hold it RAW, as read from a pack.
        ChunkData page = null;
        for (int seed = 0; page == null; seed++) {
            byte[] b = new byte[4096];
            ByteBuffer.wrap(b).putInt(0, seed);
            ChunkData c = ChunkData.raw(b);
            if (cluster.placement().nodesFor(c.id(), 3).get(0).equals("n0")) {
                page = c;
            }
        }
        nodes.get(1).hold(page);
        nodes.get(2).hold(page);
        List<ByteBuffer> got = new ChunkReader(cluster).fetch(List.of(page.id())).get(10, TimeUnit.SECONDS);
        assertEquals(page.bytes(), got.get(0));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (nodes.get(0).putChunks.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertFalse(nodes.get(0).putChunks.isEmpty(), "n0 was repaired");
        ChunkData repaired = nodes.get(0).putChunks.get(0);
        assertEquals(page.id(), repaired.id());
        assertEquals(ChunkCodec.ZSTD, repaired.codec());
        assertTrue(repaired.storedLength() < 100, "stored " + repaired.storedLength());
        byte[] raw = new byte[4096];
        repaired.rawBytes().get(raw);
        assertArrayEquals(page.bytes().array(), raw);
    }
}
