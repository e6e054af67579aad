package dev.cairn.server.store;

import static dev.cairn.server.store.TestChunks.PAGE;
import static dev.cairn.server.store.TestChunks.RECORD;
import static dev.cairn.server.store.TestChunks.bytesOf;
import static dev.cairn.server.store.TestChunks.pages;
import static dev.cairn.server.store.TestChunks.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Compaction by live ratio, and a crash after each of its steps. */
class ChunkStoreCompactionTest {

    @TempDir
    Path dir;

    /** Four records per segment; 16 chunks fill segments 1 to 4. */
    private final ChunkStoreOptions options = ChunkStoreOptions.defaults().withMaxChunkBytes(PAGE)
            .withMaxSegmentBytes(4L * RECORD).withCompactionLiveRatio(0.5);
    private final List<ChunkData> chunks = pages(7, 16);
    /** Three of segment 1's four chunks and one of segment 2's. */
    private final List<ChunkData> deleted = List.of(chunks.get(0), chunks.get(1), chunks.get(3), chunks.get(5));

    /** Chunks a test appended after compaction. */
    private final List<ChunkData> appendedLater = new ArrayList<>();

    private List<ChunkData> live() {
        List<ChunkData> live = new ArrayList<>(chunks);
        live.addAll(appendedLater);
        live.removeAll(deleted);
        return live;
    }

    private void fillAndDelete() throws IOException {
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            for (int i = 0; i < chunks.size(); i += 4) {
                store.append(chunks.subList(i, i + 4)).join();
            }
            for (ChunkData chunk : deleted) {
                assertTrue(store.delete(chunk.id()));
            }
            assertEquals(0.25, store.segmentLiveRatios().get(1), 1e-9);
            assertEquals(0.75, store.segmentLiveRatios().get(2), 1e-9);
        }
    }

    @Test
    void compactionRewritesOnlySegmentsUnderTheLiveRatioAndKeepsEveryLiveChunk() throws Exception {
        fillAndDelete();
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            CompactionReport report = store.compact().join();
            assertEquals(1, report.segmentsCompacted());
            assertEquals(1, report.recordsCopied());
            assertEquals(3L * RECORD, report.bytesFreed());
            assertFalse(Files.exists(segment(dir, 1)));
            assertTrue(Files.exists(segment(dir, 2)));
            assertEquals(1.0, store.segmentLiveRatios().get(5), 1e-9);
            assertState(store);
            // Appends go on after compaction, and nothing is left to compact.
            ChunkData more = pages(8, 1).get(0);
            store.append(List.of(more)).join();
            appendedLater.add(more);
            assertArrayEquals(bytesOf(more), bytesOf(store.read(more.id()).orElseThrow()));
            assertEquals(0, store.compact().join().segmentsCompacted());
        }
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            assertEquals(0, store.recovery().recordsIndexed());
            assertState(store);
        }
        TestChunks.deleteRecursively(dir.resolve("index"));
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            // A rebuild from the segments alone: segment 1's deleted chunks are gone with it.
            for (ChunkData chunk : List.of(chunks.get(0), chunks.get(1), chunks.get(3))) {
                assertFalse(store.contains(chunk.id()));
            }
            assertReadBack(store, live());
        }
    }

    @ParameterizedTest(name = "crash after {0}")
    @EnumSource(Compactor.Step.class)
    void crashAfterAnyCompactionStepLosesNoLiveChunkAndBringsNoDeletedOneBack(Compactor.Step crashAt)
            throws Exception {
        fillAndDelete();
        Compactor.Hook crash = (step, segment) -> {
            if (step == crashAt) {
                throw new IllegalStateException("simulated crash after " + step + " of segment " + segment);
            }
        };
        try (ChunkStore store = ChunkStore.open(dir, options, SegmentWriter.FDATASYNC, SegmentWriter.FILES, crash)) {
            CompletionException e = assertThrows(CompletionException.class, () -> store.compact().join());
            assertTrue(e.getCause().getMessage().contains("simulated crash"), e.getCause().getMessage());
            assertTrue(store.isFailed(), "the store must not go on after a compaction step failed");
            assertState(store);
        }
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            assertFalse(store.isFailed());
            assertState(store);
            // Compaction picks up whatever the crash left: segment 1, or its empty leftover.
            store.compact().join();
            assertFalse(Files.exists(segment(dir, 1)));
            assertState(store);
        }
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            assertState(store);
        }
    }

    private void assertState(ChunkStore store) throws IOException {
        assertReadBack(store, live());
        for (ChunkData chunk : deleted) {
            assertFalse(store.contains(chunk.id()), "deleted chunk came back: " + chunk.id().shortHex());
        }
        assertEquals(live().size(), store.chunkCount());
    }

    private static void assertReadBack(ChunkStore store, List<ChunkData> expected) throws IOException {
        for (ChunkData chunk : expected) {
            assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()), chunk.id().shortHex());
        }
    }
}
