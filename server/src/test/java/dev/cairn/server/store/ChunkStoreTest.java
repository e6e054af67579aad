package dev.cairn.server.store;

import static dev.cairn.server.store.TestChunks.PAGE;
import static dev.cairn.server.store.TestChunks.RECORD;
import static dev.cairn.server.store.TestChunks.bytesOf;
import static dev.cairn.server.store.TestChunks.pages;
import static dev.cairn.server.store.TestChunks.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreTest {

    @TempDir
    Path dir;

    @Test
    void appendedChunkReadsBackByteExact() throws Exception {
        List<ChunkData> chunks = pages(1, 3);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.append(chunks).join();
            for (ChunkData chunk : chunks) {
                ChunkData read = store.read(chunk.id()).orElseThrow();
                assertEquals(chunk.id(), read.id());
                assertEquals(ChunkCodec.RAW, read.codec());
                assertEquals(PAGE, read.rawLength());
                assertArrayEquals(bytesOf(chunk), bytesOf(read));
                assertTrue(read.verify());
                assertTrue(store.contains(chunk.id()));
            }
            assertEquals(3, store.chunkCount());
            assertEquals(3L * PAGE, store.storedBytes());
        }
    }

    @Test
    void chunkThatWasNeverAppendedIsAbsent() throws Exception {
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            ChunkId id = ChunkId.of(new byte[] {1, 2, 3});
            assertFalse(store.contains(id));
            assertEquals(Optional.empty(), store.read(id));
        }
    }

    @Test
    void zstdChunkThatCannotBeVerifiedIsRefusedNamingTheChunk() throws Exception {
        ChunkData page = pages(9, 1).get(0);
        ChunkData zstd = new ChunkData(page.id(), ChunkCodec.ZSTD, PAGE, ByteBuffer.wrap(new byte[100]));
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            CompletionException e = assertThrows(CompletionException.class, () -> store.append(List.of(zstd)).join());
            assertTrue(e.getCause().getMessage().contains(page.id().toHex()), e.getCause().getMessage());
            assertFalse(store.contains(page.id()));
        }
    }

    @Test
    void duplicateChunksAreStoredOnce() throws Exception {
        ChunkData chunk = pages(2, 1).get(0);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.append(List.of(chunk, chunk)).join();
            store.append(List.of(chunk)).join();
            assertEquals(1, store.recordsWritten());
            assertEquals(1, store.chunkCount());
            assertEquals(PAGE, store.storedBytes());
        }
        assertEquals(RECORD, Files.size(segment(dir, 1)));
    }

    @Test
    void chunkWhoseBytesDoNotMatchItsIdIsRefusedAndNothingOfItsAppendIsWritten() throws Exception {
        List<ChunkData> good = pages(3, 2);
        ChunkData liar = new ChunkData(good.get(1).id(), ChunkCodec.RAW, PAGE, ByteBuffer.wrap(new byte[PAGE]));
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            CompletionException e = assertThrows(CompletionException.class,
                    () -> store.append(List.of(good.get(0), liar)).join());
            ChunkCorruptException corrupt = assertInstanceOf(ChunkCorruptException.class, e.getCause());
            assertEquals(liar.id(), corrupt.chunkId());
            assertTrue(corrupt.getMessage().contains(liar.id().toHex()), corrupt.getMessage());
            assertFalse(store.contains(good.get(0).id()));
            assertEquals(0, store.recordsWritten());
            assertEquals(0, store.chunkCount());
        }
        assertEquals(0, Files.size(segment(dir, 1)));
    }

    @Test
    void chunkLargerThanTheLimitIsRefused() throws Exception {
        ChunkData chunk = pages(4, 1).get(0);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults().withMaxChunkBytes(PAGE - 1))) {
            CompletionException e = assertThrows(CompletionException.class, () -> store.append(List.of(chunk)).join());
            assertTrue(e.getCause().getMessage().contains("limit"), e.getCause().getMessage());
            assertFalse(store.contains(chunk.id()));
        }
    }

    @Test
    void segmentsRollOverAtMaxSegmentBytesAndAllChunksReadBack() throws Exception {
        List<ChunkData> chunks = pages(5, 10);
        ChunkStoreOptions options = ChunkStoreOptions.defaults().withMaxChunkBytes(PAGE).withMaxSegmentBytes(3L * RECORD);
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            store.append(chunks).join();
            for (ChunkData chunk : chunks) {
                assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()));
            }
        }
        for (int segment = 1; segment <= 3; segment++) {
            assertEquals(3L * RECORD, Files.size(segment(dir, segment)), "segment " + segment);
        }
        assertEquals(RECORD, Files.size(segment(dir, 4)));
        assertFalse(Files.exists(segment(dir, 5)));
    }

    @Test
    void reopenAfterCloseKeepsEverythingWithoutRescanning() throws Exception {
        List<ChunkData> chunks = pages(6, 20);
        ChunkStoreOptions options = ChunkStoreOptions.defaults().withMaxChunkBytes(PAGE).withMaxSegmentBytes(8L * RECORD);
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            store.append(chunks.subList(0, 10)).join();
            store.append(chunks.subList(10, 20)).join();
        }
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            assertEquals(0, store.recovery().recordsIndexed());
            assertFalse(store.recovery().indexRebuilt());
            assertEquals(20, store.chunkCount());
            assertEquals(20L * PAGE, store.storedBytes());
            for (ChunkData chunk : chunks) {
                assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()));
            }
            // Appends continue in the last segment after a reopen.
            ChunkData more = pages(7, 1).get(0);
            store.append(List.of(more)).join();
            assertArrayEquals(bytesOf(more), bytesOf(store.read(more.id()).orElseThrow()));
        }
    }

    @Test
    void lostIndexDirectoryIsRebuiltFromTheSegments() throws Exception {
        List<ChunkData> chunks = pages(8, 20);
        ChunkStoreOptions options = ChunkStoreOptions.defaults().withMaxChunkBytes(PAGE).withMaxSegmentBytes(8L * RECORD);
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            store.append(chunks).join();
        }
        TestChunks.deleteRecursively(dir.resolve("index"));
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            RecoveryReport report = store.recovery();
            assertTrue(report.indexRebuilt());
            assertEquals(3, report.segmentsScanned());
            assertEquals(20, report.recordsIndexed());
            assertEquals(0, report.quarantinedRegions());
            assertEquals(20, store.chunkCount());
            for (ChunkData chunk : chunks) {
                assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()));
            }
        }
    }

    @Test
    void deleteMakesContainsFalseAndSurvivesReopen() throws Exception {
        List<ChunkData> chunks = pages(10, 2);
        ChunkId gone = chunks.get(0).id();
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.append(chunks).join();
            assertTrue(store.delete(gone));
            assertFalse(store.contains(gone));
            assertEquals(Optional.empty(), store.read(gone));
            assertFalse(store.delete(gone));
            assertEquals(1, store.chunkCount());
            assertEquals(PAGE, store.storedBytes());
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertFalse(store.contains(gone));
            assertTrue(store.contains(chunks.get(1).id()));
            assertEquals(1, store.chunkCount());
        }
    }

    @Test
    void deletedChunkCanBeAppendedAgain() throws Exception {
        ChunkData chunk = pages(11, 1).get(0);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.append(List.of(chunk)).join();
            store.delete(chunk.id());
            store.append(List.of(chunk)).join();
            assertEquals(2, store.recordsWritten());
            assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()));
            assertEquals(1, store.chunkCount());
        }
    }

    @Test
    void appendAfterCloseFails() throws Exception {
        ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults());
        store.close();
        CompletionException e = assertThrows(CompletionException.class, () -> store.append(pages(12, 1)).join());
        assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
    }
}
