package dev.cairn.server.store;

import static dev.cairn.server.store.TestChunks.bytesOf;
import static dev.cairn.server.store.TestChunks.pages;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ManualClock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The group-commit thread: batching, ordering against fsync, and the failed state. */
class ChunkStoreGroupCommitTest {

    @TempDir
    Path dir;

    @Test
    void concurrentAppendsFromManyThreadsAllCompleteAndReadBack() throws Exception {
        int threads = 8;
        int appendsPerThread = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            List<Future<List<ChunkData>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = 1000 + t;
                results.add(pool.submit(() -> {
                    List<ChunkData> mine = pages(seed, 2 * appendsPerThread);
                    List<CompletableFuture<Void>> futures = new ArrayList<>();
                    for (int i = 0; i < appendsPerThread; i++) {
                        futures.add(store.append(mine.subList(2 * i, 2 * i + 2)));
                        // Readers run beside the appends: a contains() never sees an unsynced chunk.
                        store.contains(mine.get(2 * i).id());
                    }
                    CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).join();
                    return mine;
                }));
            }
            for (Future<List<ChunkData>> result : results) {
                for (ChunkData chunk : result.get(60, TimeUnit.SECONDS)) {
                    assertArrayEquals(bytesOf(chunk), bytesOf(store.read(chunk.id()).orElseThrow()));
                }
            }
            assertEquals(threads * appendsPerThread * 2L, store.chunkCount());
            assertEquals(store.chunkCount(), store.recordsWritten());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void appendsQueuedWhileTheCommitThreadIsBusyShareOneFsync() throws Exception {
        int callers = 16;
        List<ChunkData> chunks = pages(200, callers);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.pauseCommits();
            CountDownLatch queued = new CountDownLatch(callers);
            List<Future<CompletableFuture<Void>>> submitted = new ArrayList<>();
            for (ChunkData chunk : chunks) {
                submitted.add(pool.submit(() -> {
                    CompletableFuture<Void> f = store.append(List.of(chunk));
                    queued.countDown();
                    return f;
                }));
            }
            assertTrue(queued.await(30, TimeUnit.SECONDS));
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (Future<CompletableFuture<Void>> s : submitted) {
                futures.add(s.get());
            }
            assertTrue(futures.stream().noneMatch(CompletableFuture::isDone), "acknowledged before any fsync");
            assertEquals(0, store.syncCount());
            store.resumeCommits();
            CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).join();
            assertEquals(1, store.syncCount());
            assertEquals(callers, store.recordsWritten());
            for (ChunkData chunk : chunks) {
                assertTrue(store.contains(chunk.id()));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void noAppendCompletesOrBecomesVisibleBeforeItsFsyncReturns() throws Exception {
        CountDownLatch inFsync = new CountDownLatch(1);
        CountDownLatch releaseFsync = new CountDownLatch(1);
        SegmentWriter.Fsync blocking = segment -> {
            inFsync.countDown();
            try {
                releaseFsync.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            SegmentWriter.FDATASYNC.force(segment);
        };
        ChunkData chunk = pages(300, 1).get(0);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults(), blocking)) {
            CompletableFuture<Void> appended = store.append(List.of(chunk));
            try {
                assertTrue(inFsync.await(30, TimeUnit.SECONDS));
                assertFalse(appended.isDone());
                assertFalse(store.contains(chunk.id()));
            } finally {
                // Close waits for the commit thread, which waits for this latch.
                releaseFsync.countDown();
            }
            appended.join();
            assertTrue(store.contains(chunk.id()));
        }
    }

    @Test
    void failedFsyncFailsTheWaitingAppendAndEveryLaterOne() throws Exception {
        SegmentWriter.Fsync failing = segment -> {
            throw new IOException("injected EIO");
        };
        List<ChunkData> chunks = pages(400, 2);
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults(), failing)) {
            CompletionException first = assertThrows(CompletionException.class,
                    () -> store.append(chunks.subList(0, 1)).join());
            ChunkStoreFailedException failed = assertInstanceOf(ChunkStoreFailedException.class, first.getCause());
            assertTrue(failed.getMessage().contains("must be restarted after the disk is checked"), failed.getMessage());
            assertTrue(store.isFailed());
            assertFalse(store.contains(chunks.get(0).id()));
            CompletionException later = assertThrows(CompletionException.class,
                    () -> store.append(chunks.subList(1, 2)).join());
            assertInstanceOf(ChunkStoreFailedException.class, later.getCause());
            assertEquals(0, store.chunkCount());
        }
    }

    @Test
    void eachFdatasyncIsReportedWithItsDurationOnTheStoresClock() throws Exception {
        ManualClock clock = new ManualClock();
        // A disk whose fdatasync takes 7 ms of the store's clock, and nothing else takes any time.
        SegmentWriter.Fsync slow = segment -> {
            SegmentWriter.FDATASYNC.force(segment);
            clock.advance(Duration.ofMillis(7));
        };
        List<long[]> syncs = new CopyOnWriteArrayList<>();
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults(), slow, SegmentWriter.FILES,
                Compactor.NO_HOOK, clock)) {
            store.onSync((nanos, records) -> syncs.add(new long[] {nanos, records}));
            store.append(pages(500, 3)).join();
            store.append(pages(501, 1)).join();

            assertEquals(2, syncs.size());
            assertEquals(Duration.ofMillis(7).toNanos(), syncs.get(0)[0]);
            assertEquals(3, syncs.get(0)[1]);
            assertEquals(1, syncs.get(1)[1]);
            assertEquals(0, store.indexWriteNanos(), "index writes are timed on the same clock, which did not move");
        }
    }
}
