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
    void exactlyOnePieceIsOneChunkAndOneMoreByteMakesAnIndex() {
        ManifestTree.Built one = ManifestTree.build(new byte[ManifestTree.PIECE_BYTES]);
        assertEquals(1, one.chunks().size());
        byte[] longer = randomBytes(ManifestTree.PIECE_BYTES + 1, 1);
        ManifestTree.Built two = ManifestTree.build(longer);
        assertEquals(3, two.chunks().size(), "two leaves and one index");
        Store store = new Store(two);
        assertArrayEquals(longer, ManifestTree.read(two.rootId(), store));
        assertEquals(List.of(1, 2), store.levelSizes);
    }

    @Test
    void aManifestOfMoreThanFanoutPiecesBuildsThreeLevelsAndReadsBackExactly() {
        int length = ManifestTree.PIECE_BYTES * ManifestTree.FANOUT + 1;
        byte[] manifest = randomBytes(length, 42);
        ManifestTree.Built built = ManifestTree.build(manifest);
        int leaves = ManifestTree.FANOUT + 1;
        assertEquals(leaves + 2 + 1, built.chunks().size(), "2049 leaves, 2 index chunks, 1 root");
        Store store = new Store(built);
        assertArrayEquals(manifest, ManifestTree.read(built.rootId(), store));
        assertEquals(List.of(1, 2, leaves), store.levelSizes, "one fetch per level");
    }

    @Test
    void manifestsThatShareALongPrefixShareTheirLeafChunks() {
        int pieces = 10;
        byte[] first = randomBytes(ManifestTree.PIECE_BYTES * pieces + 100, 7);
        byte[] second = first.clone();
        second[second.length - 1] ^= 1; // only the last piece differs
        Set<ChunkId> a = new HashSet<>();
        ManifestTree.build(first).chunks().forEach(c -> a.add(c.id()));
        Set<ChunkId> shared = new HashSet<>();
        ManifestTree.Built built = ManifestTree.build(second);
        built.chunks().forEach(c -> {
            if (a.contains(c.id())) {
                shared.add(c.id());
            }
        });
        assertEquals(pieces, shared.size(), "every full piece before the change is stored once for both");
        assertArrayEquals(second, ManifestTree.read(built.rootId(), new Store(built)));
    }

    @Test
    void theSameBytesBuildTheSameRoot() {
        byte[] m = randomBytes(3 * ManifestTree.PIECE_BYTES, 3);
        assertEquals(ManifestTree.build(m).rootId(), ManifestTree.build(m.clone()).rootId());
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
