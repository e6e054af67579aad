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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Recovery on crafted segment files: torn tails, flipped bits, lost index entries. */
class ChunkStoreRecoveryTest {

    @TempDir
    Path dir;

    private final List<ChunkData> chunks = pages(100, 5);

    private void storeAndClose() throws IOException {
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.append(chunks).join();
        }
    }

    @Test
    void tornRecordAfterTheCheckpointIsCutOffAndEverythingBeforeItReadsBack() throws Exception {
        storeAndClose();
        // A crash in the middle of writing a sixth record: half of it reached the file, no index entry.
        ChunkData torn = pages(101, 1).get(0);
        ByteBuffer header = SegmentRecord.header(torn.id(), torn.codec(), torn.rawLength(), torn.bytes());
        try (FileChannel segment = FileChannel.open(segment(dir, 1), StandardOpenOption.APPEND)) {
            segment.write(header);
            segment.write(torn.bytes().duplicate().limit(PAGE / 2));
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertEquals(SegmentRecord.HEADER_BYTES + PAGE / 2, store.recovery().tornTailBytes());
            assertEquals(5L * RECORD, Files.size(segment(dir, 1)));
            assertFalse(store.contains(torn.id()));
            assertReadBack(store, chunks);
            // The cut-off chunk can be appended again and is then whole.
            store.append(List.of(torn)).join();
            assertArrayEquals(bytesOf(torn), bytesOf(store.read(torn.id()).orElseThrow()));
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertEquals(0, store.recovery().tornTailBytes());
            assertReadBack(store, chunks);
            assertTrue(store.contains(torn.id()));
        }
    }

    @ParameterizedTest(name = "cut {0} bytes")
    @ValueSource(ints = {1, 100, PAGE, RECORD - 1})
    void lastRecordTruncatedBySomeBytesIsCutOffWhenTheIndexIsRebuilt(int cut) throws Exception {
        storeAndClose();
        TestChunks.deleteRecursively(dir.resolve("index"));
        try (FileChannel segment = FileChannel.open(segment(dir, 1), StandardOpenOption.WRITE)) {
            segment.truncate(5L * RECORD - cut);
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertEquals(RECORD - cut, store.recovery().tornTailBytes());
            assertEquals(4L * RECORD, Files.size(segment(dir, 1)));
            assertFalse(store.contains(chunks.get(4).id()));
            assertReadBack(store, chunks.subList(0, 4));
            assertEquals(4, store.chunkCount());
        }
    }

    @Test
    void flippedBitInAMiddleRecordFailsThatReadAndTheOthersReadBack() throws Exception {
        storeAndClose();
        flipBit(segment(dir, 1), 2L * RECORD + SegmentRecord.HEADER_BYTES + 1000);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            ChunkCorruptException e = assertThrows(ChunkCorruptException.class, () -> store.read(chunks.get(2).id()));
            assertEquals(chunks.get(2).id(), e.chunkId());
            assertTrue(e.getMessage().contains(chunks.get(2).id().toHex()), e.getMessage());
            assertReadBack(store, List.of(chunks.get(0), chunks.get(1), chunks.get(3), chunks.get(4)));
        }
    }

    /** Offsets inside the third record: magic, chunk id, stored length, crc, payload. */
    @ParameterizedTest(name = "bit flipped at record offset {0}")
    @ValueSource(ints = {0, 20, 45, 50, SegmentRecord.HEADER_BYTES + 1000})
    void flippedBitInAMiddleRecordIsQuarantinedWhenTheIndexIsRebuilt(int offsetInRecord) throws Exception {
        storeAndClose();
        TestChunks.deleteRecursively(dir.resolve("index"));
        flipBit(segment(dir, 1), 2L * RECORD + offsetInRecord);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            RecoveryReport report = store.recovery();
            assertEquals(1, report.quarantinedRegions());
            assertEquals(RECORD, report.quarantinedBytes());
            assertEquals(0, report.tornTailBytes());
            assertEquals(4, report.recordsIndexed());
            assertFalse(store.contains(chunks.get(2).id()));
            assertReadBack(store, List.of(chunks.get(0), chunks.get(1), chunks.get(3), chunks.get(4)));
        }
        // The damaged bytes stay in place (evidence for the scrubber); the file is not cut.
        assertEquals(5L * RECORD, Files.size(segment(dir, 1)));
    }

    @Test
    void corruptLastRecordOfAnOlderSegmentIsQuarantinedAndNotCutOff() throws Exception {
        ChunkStoreOptions options = ChunkStoreOptions.defaults().withMaxChunkBytes(PAGE).withMaxSegmentBytes(3L * RECORD);
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            store.append(chunks).join();
        }
        TestChunks.deleteRecursively(dir.resolve("index"));
        flipBit(segment(dir, 1), 2L * RECORD + SegmentRecord.HEADER_BYTES + 7);
        try (ChunkStore store = ChunkStore.open(dir, options)) {
            assertEquals(1, store.recovery().quarantinedRegions());
            assertEquals(RECORD, store.recovery().quarantinedBytes());
            assertEquals(0, store.recovery().tornTailBytes());
            assertFalse(store.contains(chunks.get(2).id()));
            assertReadBack(store, List.of(chunks.get(0), chunks.get(1), chunks.get(3), chunks.get(4)));
        }
        assertEquals(3L * RECORD, Files.size(segment(dir, 1)));
        assertEquals(2L * RECORD, Files.size(segment(dir, 2)));
    }

    @Test
    void indexEntriesLostAfterTheCheckpointAreReaddedFromTheSegment() throws Exception {
        storeAndClose();
        // Rewind the checkpoint to the middle of segment 1, as a power loss can do to an unsynced WAL.
        try (ChunkIndex index = ChunkIndex.open(dir.resolve("index"))) {
            index.clear();
            index.put(List.of(chunks.get(0).id(), chunks.get(1).id()),
                    List.of(new ChunkIndex.Location(1, 0, RECORD), new ChunkIndex.Location(1, RECORD, RECORD)),
                    new ChunkIndex.Checkpoint(1, 2L * RECORD));
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertFalse(store.recovery().indexRebuilt());
            assertEquals(3, store.recovery().recordsIndexed());
            assertEquals(5, store.chunkCount());
            assertReadBack(store, chunks);
        }
    }

    private static void assertReadBack(ChunkStore store, List<ChunkData> expected) throws IOException {
        for (ChunkData chunk : expected) {
            assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()), chunk.id().shortHex());
        }
    }

    private static void flipBit(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x10));
            b.rewind();
            channel.write(b, offset);
        }
    }
}
