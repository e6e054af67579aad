package dev.cairn.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ManifestTreeTest {

    /** A chunk store in a map: every chunk is checked against its id when stored and when fetched. */
    private static final class Store implements Function<List<ChunkId>, List<byte[]>> {
        final Map<ChunkId, byte[]> chunks = new HashMap<>();
        final List<Integer> levelSizes = new ArrayList<>();

        Store(ManifestTree.Built built) {
            for (ChunkData c : built.chunks()) {
                assertTrue(c.verify(), "chunk " + c.id().shortHex() + " hashes to its id");
                byte[] b = new byte[c.storedLength()];
                c.bytes().duplicate().get(b);
                chunks.put(c.id(), b);
            }
        }

        @Override
        public List<byte[]> apply(List<ChunkId> ids) {
            levelSizes.add(ids.size());
            List<byte[]> out = new ArrayList<>(ids.size());
            for (ChunkId id : ids) {
                byte[] b = chunks.get(id);
                assertTrue(b != null, "asked for an unknown chunk " + id.shortHex());
                assertTrue(id.matches(b, 0, b.length), "chunk " + id.shortHex() + " still hashes to its id");
                out.add(b);
            }
            return out;
        }
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aSmallManifestIsOneChunk() {
        byte[] manifest = ManifestCodec.encode(ManifestCodecTest.tree());
        ManifestTree.Built built = ManifestTree.build(manifest);
        assertEquals(1, built.chunks().size());
        assertEquals(built.rootId(), built.chunks().get(0).id());
        Store store = new Store(built);
        assertArrayEquals(manifest, ManifestTree.read(built.rootId(), store));
        assertEquals(List.of(1), store.levelSizes);
    }

    @Test
    void anEmptyManifestIsOneLeafChunk() {
        ManifestTree.Built built = ManifestTree.build(new byte[0]);
        assertEquals(1, built.chunks().size());
        assertArrayEquals(new byte[0], ManifestTree.read(built.rootId(), new Store(built)));
    }

    @Test
    void aLargeManifestBuildsSeveralLevelsAndReadsBackExactly() {
        byte[] manifest = randomBytes(24 * 1024 * 1024, 42);
        ManifestTree.Built built = ManifestTree.build(manifest);
        Store store = new Store(built);
        assertArrayEquals(manifest, ManifestTree.read(built.rootId(), store));
        assertTrue(store.levelSizes.size() >= 3, "levels " + store.levelSizes);
        assertEquals(1, store.levelSizes.get(0));
        int leaves = store.levelSizes.get(store.levelSizes.size() - 1);
        assertTrue(leaves > 24 * 1024 * 1024 / ManifestTree.LEAF_MAX_BYTES, "leaves " + leaves);
        for (ChunkData c : built.chunks()) {
            assertTrue(c.rawLength() <= 1 + Math.max(ManifestTree.LEAF_MAX_BYTES, ManifestTree.FANOUT * ChunkId.LENGTH_BYTES));
        }
    }

    @Test
    void anEditInTheMiddleLeavesMostTreeChunksShared() {
        // A manifest's ref list: 200,000 refs of 36 bytes, as a 800 MB page file would have.
        byte[] first = randomBytes(200_000 * 36, 7);
        byte[] second = first.clone();
        second[first.length / 2] ^= 1; // one chunk of one file changed
        Set<ChunkId> a = new HashSet<>();
        ManifestTree.build(first).chunks().forEach(c -> a.add(c.id()));
        ManifestTree.Built built = ManifestTree.build(second);
        long fresh = built.chunks().stream().filter(c -> !a.contains(c.id())).count();
        assertTrue(fresh <= 1 + 3 * store(built).levelSizes.size(), "new tree chunks: " + fresh + " of " + built.chunks().size());
        assertArrayEquals(second, ManifestTree.read(built.rootId(), new Store(built)));
    }

    @Test
    void anInsertedRefNearTheStartLeavesMostTreeChunksShared() {
        byte[] first = randomBytes(100_000 * 36, 8);
        byte[] second = new byte[first.length + 36];
        System.arraycopy(first, 0, second, 0, 3600);
        System.arraycopy(randomBytes(36, 9), 0, second, 3600, 36);
        System.arraycopy(first, 3600, second, 3636, first.length - 3600);
        Set<ChunkId> a = new HashSet<>();
        ManifestTree.Built one = ManifestTree.build(first);
        one.chunks().forEach(c -> a.add(c.id()));
        ManifestTree.Built two = ManifestTree.build(second);
        long fresh = two.chunks().stream().filter(c -> !a.contains(c.id())).count();
        assertTrue(fresh <= 10, "new tree chunks after an insert: " + fresh + " of " + two.chunks().size());
    }

    private static Store store(ManifestTree.Built built) {
        Store s = new Store(built);
        ManifestTree.read(built.rootId(), s);
        return s;
    }

    @Test
    void theSameBytesBuildTheSameRoot() {
        byte[] m = randomBytes(300_000, 3);
        assertEquals(ManifestTree.build(m).rootId(), ManifestTree.build(m.clone()).rootId());
    }

    @Test
    void aManifestOverTheLimitIsRefusedOnRead() {
        // Index chunks that claim more leaves than any manifest within the limit can have.
        ChunkId leaf = ChunkId.of(new byte[] {0});
        int ids = ManifestTree.MAX_MANIFEST_BYTES / ManifestTree.LEAF_MIN_BYTES + 2;
        ByteBuffer index = ByteBuffer.allocate(1 + ids * ChunkId.LENGTH_BYTES).put((byte) 1);
        for (int i = 0; i < ids; i++) {
            leaf.write(index);
        }
        ManifestFormatException e = assertThrows(ManifestFormatException.class,
                () -> ManifestTree.read(leaf, asked -> List.of(index.array())));
        assertTrue(e.getMessage().contains("more chunks"), e.getMessage());
    }

    @Test
    void aChunkOfUnknownKindIsRefused() {
        ChunkId root = ChunkId.of(new byte[] {2, 1, 2, 3});
        ManifestFormatException e = assertThrows(ManifestFormatException.class,
                () -> ManifestTree.read(root, ids -> List.of(new byte[] {2, 1, 2, 3})));
        assertTrue(e.getMessage().contains("unknown kind"), e.getMessage());
        assertThrows(ManifestFormatException.class, () -> ManifestTree.read(root, ids -> List.of(new byte[0])));
    }

    @Test
    void aLevelMixingLeafAndIndexChunksIsRefused() {
        ChunkId leaf = ChunkId.of(new byte[] {0, 5});
        ByteBuffer index = ByteBuffer.allocate(1 + 2 * ChunkId.LENGTH_BYTES).put((byte) 1);
        leaf.write(index);
        leaf.write(index);
        byte[] rootChunk = index.array();
        List<byte[]> mixed = List.of(new byte[] {0, 5}, new byte[] {1});
        ManifestFormatException e = assertThrows(ManifestFormatException.class, () -> ManifestTree.read(leaf,
                ids -> ids.size() == 1 ? List.of(rootChunk) : mixed));
        assertTrue(e.getMessage().contains("mixes leaf and index"), e.getMessage());
    }

    @Test
    void anIndexChunkOfABrokenLengthIsRefused() {
        ChunkId root = ChunkId.of(new byte[] {1});
        assertThrows(ManifestFormatException.class, () -> ManifestTree.read(root, ids -> List.of(new byte[] {1})));
        assertThrows(ManifestFormatException.class, () -> ManifestTree.read(root, ids -> List.of(new byte[] {1, 0, 0})));
    }

    @Test
    void aFetchReturningTheWrongNumberOfChunksIsRefused() {
        ChunkId root = ChunkId.of(new byte[] {1});
        ManifestFormatException e = assertThrows(ManifestFormatException.class,
                () -> ManifestTree.read(root, ids -> List.of()));
        assertTrue(e.getMessage().contains("asked for 1 chunks, got 0"), e.getMessage());
    }

    @Test
    void anIndexThatPointsAtItselfStopsAtTheDepthLimit() {
        // A content-addressed store cannot hold such a chunk, but a broken or hostile fetch can return one.
        ChunkId root = ChunkId.of(new byte[] {9});
        ByteBuffer selfIndex = ByteBuffer.allocate(1 + ChunkId.LENGTH_BYTES).put((byte) 1);
        root.write(selfIndex);
        int[] fetches = {0};
        ManifestFormatException e = assertThrows(ManifestFormatException.class, () -> ManifestTree.read(root, ids -> {
            fetches[0]++;
            return List.of(selfIndex.array());
        }));
        assertTrue(e.getMessage().contains("deeper than " + ManifestTree.MAX_DEPTH), e.getMessage());
        assertEquals(ManifestTree.MAX_DEPTH + 1, fetches[0]);
    }
}
