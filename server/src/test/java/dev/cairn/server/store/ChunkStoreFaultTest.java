package dev.cairn.server.store;

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

import dev.cairn.engine.ChunkData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failing or full disk, simulated by {@link FaultyFileChannel} under a real store. */
class ChunkStoreFaultTest {

    @TempDir
    Path dir;

    private final FaultyFileChannel.Faults faults = new FaultyFileChannel.Faults(42);

    private ChunkStore openFaulty() throws IOException {
        return ChunkStore.open(dir, ChunkStoreOptions.defaults(), SegmentWriter.FDATASYNC, faults.opener(),
                Compactor.NO_HOOK);
    }

    @Test
    void shortWritesStillLeaveWholeRecordsThatReadBackAfterARebuild() throws Exception {
        faults.maxWriteBytes = 777;
        List<ChunkData> chunks = pages(1, 40);
        try (ChunkStore store = openFaulty()) {
            for (int i = 0; i < chunks.size(); i += 4) {
                store.append(chunks.subList(i, i + 4)).join();
            }
            assertReadBack(store, chunks);
        }
        assertEquals(40L * RECORD, Files.size(segment(dir, 1)));
        TestChunks.deleteRecursively(dir.resolve("index"));
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertEquals(40, store.recovery().recordsIndexed());
            assertEquals(0, store.recovery().quarantinedRegions());
            assertReadBack(store, chunks);
        }
    }

    @Test
    void fullDiskFailsTheAppendWithADiskFullErrorAndLosesNothingAcknowledged() throws Exception {
        List<ChunkData> before = pages(2, 5);
        List<ChunkData> after = pages(3, 5);
        try (ChunkStore store = openFaulty()) {
            store.append(before).join();
            // Room for two and a bit records: the third is half written when the disk fills up.
            faults.spaceLeft = 2L * RECORD + 100;
            CompletionException e = assertThrows(CompletionException.class, () -> store.append(after).join());
            DiskFullException full = assertInstanceOf(DiskFullException.class, e.getCause());
            assertTrue(full.getMessage().startsWith("disk full: "), full.getMessage());
            assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
            assertFalse(store.isFailed(), "a full disk is not a failed disk");
            for (ChunkData chunk : after) {
                assertFalse(store.contains(chunk.id()));
            }
            assertReadBack(store, before);
            // The partial write was cut off: the next append starts on a record boundary.
            assertEquals(5L * RECORD, Files.size(segment(dir, 1)));

            faults.spaceLeft = -1;
            store.append(after).join();
            assertReadBack(store, after);
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertEquals(0, store.recovery().tornTailBytes());
            assertEquals(0, store.recovery().quarantinedRegions());
            assertReadBack(store, before);
            assertReadBack(store, after);
        }
    }

    @Test
    void fsyncErrorFailsTheStoreWhichNeverRetriesTheFsyncAndKeepsServingReads() throws Exception {
        List<ChunkData> good = pages(4, 3);
        List<ChunkData> doomed = pages(5, 3);
        try (ChunkStore store = openFaulty()) {
            store.append(good).join();
            faults.failFsync = true;
            CompletionException e = assertThrows(CompletionException.class, () -> store.append(doomed).join());
            assertInstanceOf(ChunkStoreFailedException.class, e.getCause());
            assertTrue(store.isFailed());
            assertTrue(store.failureMessage().contains("Input/output error"), store.failureMessage());
            int fsyncsAfterFailure = faults.fsyncCalls;

            // The disk "recovers", but the store does not trust what the failed fsync covered.
            faults.failFsync = false;
            CompletionException later = assertThrows(CompletionException.class,
                    () -> store.append(pages(6, 1)).join());
            assertInstanceOf(ChunkStoreFailedException.class, later.getCause());
            assertEquals(fsyncsAfterFailure, faults.fsyncCalls, "the store retried an fsync");
            for (ChunkData chunk : doomed) {
                assertFalse(store.contains(chunk.id()));
            }
            assertReadBack(store, good);
        }
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            assertFalse(store.isFailed());
            assertReadBack(store, good);
        }
    }

    private static void assertReadBack(ChunkStore store, List<ChunkData> expected) throws IOException {
        for (ChunkData chunk : expected) {
            assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()), chunk.id().shortHex());
        }
    }
}
