package dev.cairn.server.store;

import static dev.cairn.server.store.TestChunks.PAGE;
import static dev.cairn.server.store.TestChunks.bytesOf;
import static dev.cairn.server.store.TestChunks.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkPack;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** Packs in the chunk store: one record per pack, one index entry per member, through reopen, rebuild and compaction. */
class ChunkStorePackTest {

    @TempDir
    Path dir;

    /** Distinct pages that share most of their bytes, as a process's pages often do, so that packing pays. */
    static List<ChunkData> similarPages(long seed, int count) {
        Random random = new Random(seed);
        byte[] base = new byte[PAGE];
        random.nextBytes(base);
        List<ChunkData> pages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] page = base.clone();
            for (int k = 0; k < 64; k++) {
                page[random.nextInt(PAGE)] = (byte) random.nextInt();
            }
            pages.add(ChunkData.raw(page));
        }
        return pages;
    }

    static ChunkPack pack(List<ChunkData> members) {
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkPack pack = encoder.encodePack(members);
            assertNotNull(pack, "these pages must compress together");
            return pack;
        }
    }

    private static void assertReadBack(ChunkStore store, List<ChunkData> expected) throws Exception {
        for (ChunkData chunk : expected) {
            ChunkData read = store.read(chunk.id()).orElseThrow(() -> new AssertionError("missing " + chunk.id().shortHex()));
            assertEquals(ChunkCodec.RAW, read.codec());
            assertArrayEquals(bytesOf(chunk), bytesOf(read), chunk.id().shortHex());
            assertTrue(read.verify());
        }
    }

    @Test
    void aPackIsOneRecordAndEachMemberReadsBackAlone() throws Exception {
        List<ChunkData> pages = similarPages(1, 16);
        ChunkPack pack = pack(pages);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.appendPacks(List.of(pack)).join();
            assertEquals(1, store.recordsWritten());
            assertEquals(16, store.chunkCount());
            assertEquals(pack.storedLength(), store.storedBytes(), "the members' shares add up to the frame");
            long shares = 0;
            for (ChunkData page : pages) {
                shares += store.storedLength(page.id());
            }
            assertEquals(pack.storedLength(), shares);
            assertReadBack(store, pages);
            // One read cache: a batch decodes the pack once and still answers each member right.
            ChunkStore.ReadCache cache = new ChunkStore.ReadCache();
            for (ChunkData page : pages.subList(8, 16)) {
                assertArrayEquals(bytesOf(page), bytesOf(store.read(page.id(), cache).orElseThrow()));
            }
            for (ChunkData page : pages.subList(0, 8)) {
                assertArrayEquals(bytesOf(page), bytesOf(store.read(page.id(), cache).orElseThrow()));
            }
        }
        long expected = SegmentRecord.HEADER_BYTES + 16L * SegmentRecord.MEMBER_BYTES + pack.storedLength();
        assertEquals(expected, Files.size(segment(dir, 1)));
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertEquals(16, store.chunkCount());
            assertReadBack(store, pages);
        }
    }

    @Test
    void aMemberTheStoreHoldsKeepsItsCopyAndAPackOfKnownMembersIsNotWritten() throws Exception {
        List<ChunkData> pages = similarPages(2, 8);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.append(List.of(pages.get(3))).join();
            int alone = store.storedLength(pages.get(3).id());
            store.appendPacks(List.of(pack(pages))).join();
            assertEquals(8, store.chunkCount());
            assertEquals(alone, store.storedLength(pages.get(3).id()), "the member already held keeps its own record");
            long size = Files.size(segment(dir, 1));
            store.appendPacks(List.of(pack(pages))).join();
            assertEquals(size, Files.size(segment(dir, 1)), "a pack whose members are all held writes nothing");
            assertEquals(2, store.recordsWritten());
            assertReadBack(store, pages);
        }
    }

    @Test
    void aPackThatDoesNotMatchItsIdsIsRefusedWhole() throws Exception {
        List<ChunkData> pages = similarPages(3, 4);
        ChunkPack good = pack(pages);
        List<ChunkPack.Member> swapped = new ArrayList<>(good.members());
        swapped.set(0, good.members().get(1));
        swapped.set(1, good.members().get(0));
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            ChunkPack other = pack(similarPages(4, 4));
            CompletionException e = assertThrows(CompletionException.class,
                    () -> store.appendPacks(List.of(other, new ChunkPack(swapped, good.frame()))).join());
            assertInstanceOf(ChunkCorruptException.class, e.getCause());
            assertEquals(0, store.chunkCount(), "nothing of the call is written");
        }
    }

    @Test
    void theIndexIsRebuiltFromPackRecords() throws Exception {
        List<ChunkData> pages = similarPages(5, 20);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.appendPacks(List.of(pack(pages.subList(0, 16)))).join();
            store.append(pages.subList(16, 20)).join();
        }
        TestChunks.deleteRecursively(dir.resolve("index"));
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertTrue(store.recovery().indexRebuilt());
            assertEquals(20, store.chunkCount());
            assertReadBack(store, pages);
        }
    }

    @Test
    void aTornPackAtTheTailIsCutOffAndAFlippedBitIsReportedCorrupt() throws Exception {
        List<ChunkData> first = similarPages(6, 8);
        List<ChunkData> second = similarPages(7, 8);
        long firstEnd;
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.appendPacks(List.of(pack(first))).join();
            firstEnd = Files.size(segment(dir, 1));
            store.appendPacks(List.of(pack(second))).join();
        }
        TestChunks.deleteRecursively(dir.resolve("index"));
        try (FileChannel ch = FileChannel.open(segment(dir, 1), StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(segment(dir, 1)) - 10);
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertEquals(firstEnd, Files.size(segment(dir, 1)), "the torn pack is cut off");
            assertReadBack(store, first);
            for (ChunkData page : second) {
                assertFalse(store.contains(page.id()));
            }
        }
        try (FileChannel ch = FileChannel.open(segment(dir, 1), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x5a}), firstEnd - 20); // inside the frame
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            for (ChunkData page : first) {
                assertThrows(ChunkCorruptException.class, () -> store.read(page.id()), page.id().shortHex());
            }
        }
    }

    @Test
    void compactionCopiesALivePackWholeRepacksAPartlyDeadOneAndFreesADeadOne() throws Exception {
        List<ChunkData> all = similarPages(8, 16);
        List<ChunkData> dead = all.subList(0, 4);        // the whole first pack
        List<ChunkData> partlyDead = all.subList(4, 8);  // pack two: members 4 and 5 die
        List<ChunkData> live = new ArrayList<>(all.subList(6, 16));
        ChunkStoreOptions options = ChunkStoreOptions.defaults().withMaxChunkBytes(3 * PAGE).withCompactionLiveRatio(0.9);
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            store.appendPacks(List.of(pack(dead), pack(partlyDead), pack(all.subList(8, 16)))).join();
            for (ChunkData page : dead) {
                assertTrue(store.delete(page.id()));
            }
            assertTrue(store.delete(partlyDead.get(0).id()));
            assertTrue(store.delete(partlyDead.get(1).id()));
            store.append(similarPages(9, 1)).join();
        }
        // Segment 1 is sealed by writing the next append into a fresh segment.
        long before;
        try (ChunkStore store = ChunkStore.open(dir, options.withMaxSegmentBytes(Files.size(segment(dir, 1))))) {
            before = Files.size(segment(dir, 1));
            store.append(similarPages(10, 1)).join();
            double ratio = store.segmentLiveRatios().get(1);
            assertTrue(ratio > 0.3 && ratio < 0.9, "segment 1 live ratio " + ratio);
            CompactionReport report = store.compact().join();
            assertEquals(1, report.segmentsCompacted());
            assertEquals(3, report.recordsCopied(), "the partly dead pack repacked, the live one and the single page copied");
            assertFalse(Files.exists(segment(dir, 1)));
            assertReadBack(store, live);
            for (ChunkData page : all.subList(0, 6)) {
                assertFalse(store.contains(page.id()));
            }
            assertEquals(live.size() + 2, store.chunkCount());
            long after = 0;
            for (int s : store.segmentLiveRatios().keySet()) {
                after += Files.size(segment(dir, s));
            }
            assertTrue(after < before, "compaction freed the dead members' bytes: " + before + " -> " + after);
            // Nothing of what was copied is dead: a second compaction finds nothing to do.
            assertEquals(0, store.compact().join().segmentsCompacted());
        }
        TestChunks.deleteRecursively(dir.resolve("index"));
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            assertReadBack(store, live);
            for (ChunkData page : all.subList(0, 6)) {
                assertFalse(store.contains(page.id()), "a rebuild brings no dead member back");
            }
        }
    }

    @ParameterizedTest(name = "crash after {0}")
    @EnumSource(Compactor.Step.class)
    void aCrashAfterAnyStepOfRepackingLosesNoLiveMemberAndBringsNoDeadOneBack(Compactor.Step crashAt)
            throws Exception {
        List<ChunkData> pages = similarPages(11, 8);
        List<ChunkData> dead = pages.subList(0, 3);
        List<ChunkData> live = pages.subList(3, 8);
        ChunkStoreOptions options = ChunkStoreOptions.defaults().withMaxChunkBytes(3 * PAGE).withCompactionLiveRatio(0.9);
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            store.appendPacks(List.of(pack(pages))).join();
            for (ChunkData page : dead) {
                assertTrue(store.delete(page.id()));
            }
        }
        long sealedSize = Files.size(segment(dir, 1));
        ChunkStoreOptions sealing = options.withMaxChunkBytes((int) sealedSize - SegmentRecord.HEADER_BYTES)
                .withMaxSegmentBytes(sealedSize);
        Compactor.Hook crash = (step, segment) -> {
            if (step == crashAt) {
                throw new IllegalStateException("simulated crash after " + step);
            }
        };
        try (ChunkStore store = ChunkStore.open(dir, sealing, SegmentWriter.FDATASYNC, SegmentWriter.FILES, crash)) {
            store.append(similarPages(12, 1)).join(); // into segment 2: segment 1 is sealed
            assertThrows(CompletionException.class, () -> store.compact().join());
        }
        for (int reopen = 0; reopen < 2; reopen++) {
            try (ChunkStore store = ChunkStore.open(dir, sealing)) {
                assertReadBack(store, live);
                for (ChunkData page : dead) {
                    assertFalse(store.contains(page.id()), "dead member came back: " + page.id().shortHex());
                }
                store.compact().join();
                assertFalse(Files.exists(segment(dir, 1)));
                assertReadBack(store, live);
            }
        }
    }
}
