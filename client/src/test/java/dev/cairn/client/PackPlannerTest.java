package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PackPlannerTest {

    private static int seed;

    /** A RAW chunk of {@code length} bytes, distinct from every other this test makes if it has 4 bytes. */
    private static ChunkData raw(int length) {
        byte[] b = new byte[length];
        seed++;
        if (length >= 4) {
            ByteBuffer.wrap(b).putInt(0, seed);
        }
        return ChunkData.raw(b);
    }

    private static List<ChunkData> pages(int count) {
        List<ChunkData> pages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            pages.add(raw(4096));
        }
        return pages;
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    private static List<String> sameKey(int count) {
        return Collections.nCopies(count, "a");
    }

    @Test
    void consecutivePagesWithTheSamePlacementFormOnePackInOrder() {
        PackPlanner.Plan plan = PackPlanner.plan(pages(5), sameKey(5));
        assertEquals(List.of(range(0, 5)), plan.packs());
        assertEquals(List.of(), plan.singles());
    }

    @Test
    void chunksOfDifferentPlacementsNeverShareAPack() {
        PackPlanner.Plan plan = PackPlanner.plan(pages(7), List.of("a", "b", "a", "b", "a", "b", "c"));
        assertEquals(List.of(List.of(0, 2, 4), List.of(1, 3, 5)), plan.packs());
        assertEquals(List.of(6), plan.singles(), "the only chunk of its placement stays single");
    }

    @Test
    void thePlacementKeyIsTheSetOfNodesNotTheirRank() {
        assertEquals(PackPlanner.placementKey(List.of("a", "b", "c")), PackPlanner.placementKey(List.of("c", "a", "b")));
        assertFalse(PackPlanner.placementKey(List.of("a", "b")).equals(PackPlanner.placementKey(List.of("a", "c"))));
        PackPlanner.Plan plan = PackPlanner.plan(pages(3), List.of(PackPlanner.placementKey(List.of("a", "b")),
                PackPlanner.placementKey(List.of("b", "a")), PackPlanner.placementKey(List.of("a", "c"))));
        assertEquals(List.of(List.of(0, 1)), plan.packs());
        assertEquals(List.of(2), plan.singles());
    }

    @Test
    void aPackClosesBeforeTheRawByteLimit() {
        // Sixteen pages are exactly MAX_RAW_BYTES; the seventeenth starts a pack of its own, which stays single.
        PackPlanner.Plan plan = PackPlanner.plan(pages(17), sameKey(17));
        assertEquals(List.of(range(0, 16)), plan.packs());
        assertEquals(List.of(16), plan.singles());

        int m = ChunkPack.MAX_MEMBER_BYTES;
        List<ChunkData> mixed = List.of(raw(m), raw(m), raw(m), raw(m - 1), raw(2), raw(1));
        plan = PackPlanner.plan(mixed, sameKey(mixed.size()));
        assertEquals(List.of(List.of(0, 1, 2, 3), List.of(4, 5)), plan.packs());
        for (List<Integer> pack : plan.packs()) {
            assertTrue(pack.stream().mapToInt(i -> mixed.get(i).rawLength()).sum() <= ChunkPack.MAX_RAW_BYTES);
        }
    }

    @Test
    void aPackClosesAtTheMemberLimit() {
        List<ChunkData> tiny = new ArrayList<>();
        for (int i = 0; i < 2 * ChunkPack.MAX_MEMBERS + 3; i++) {
            tiny.add(raw(8));
        }
        PackPlanner.Plan plan = PackPlanner.plan(tiny, sameKey(tiny.size()));
        assertEquals(List.of(range(0, 256), range(256, 512), range(512, 515)), plan.packs());
        assertEquals(List.of(), plan.singles());
    }

    @Test
    void chunksThatCannotJoinAPackStaySingleAndDoNotBreakOne() {
        ChunkData encoded = new ChunkData(ChunkId.of(new byte[4096]), ChunkCodec.ZSTD, 4096, ByteBuffer.wrap(new byte[] {1, 2}));
        List<ChunkData> chunks = List.of(raw(4096), encoded, raw(ChunkPack.MAX_MEMBER_BYTES + 1), raw(4096), raw(0),
                raw(ChunkPack.MAX_MEMBER_BYTES), raw(100_000));
        PackPlanner.Plan plan = PackPlanner.plan(chunks, sameKey(chunks.size()));
        assertEquals(List.of(List.of(0, 3, 5)), plan.packs());
        assertEquals(List.of(1, 2, 4, 6), plan.singles());
        assertFalse(PackPlanner.packable(encoded));
        assertFalse(PackPlanner.packable(chunks.get(4)), "an empty chunk");
        assertTrue(PackPlanner.packable(chunks.get(5)), "a chunk of exactly MAX_MEMBER_BYTES");
    }

    @Test
    void everyChunkIsPlannedExactlyOnce() {
        List<ChunkData> chunks = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 2000; i++) {
            chunks.add(raw(random.nextBoolean() ? 4096 : random.nextInt(20_000)));
            keys.add("n" + random.nextInt(4));
        }
        PackPlanner.Plan plan = PackPlanner.plan(chunks, keys);
        List<Integer> all = new ArrayList<>(plan.singles());
        for (List<Integer> pack : plan.packs()) {
            assertTrue(pack.size() >= 2 && pack.size() <= ChunkPack.MAX_MEMBERS);
            assertEquals(pack.stream().sorted().toList(), pack, "members keep the image's order");
            assertEquals(1, pack.stream().map(keys::get).distinct().count(), "one placement per pack");
            assertTrue(pack.stream().mapToInt(i -> chunks.get(i).rawLength()).sum() <= ChunkPack.MAX_RAW_BYTES);
            assertTrue(pack.stream().allMatch(i -> PackPlanner.packable(chunks.get(i))));
            all.addAll(pack);
        }
        all.sort(null);
        assertEquals(range(0, chunks.size()), all);
    }
}
