package dev.cairn.server.store;

import static dev.cairn.server.store.TestChunks.pages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.Clock;
import dev.cairn.engine.ManualClock;
import dev.cairn.protocol.GcMessages.SweepReport;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.metrics.NodeMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's GC sweep against the store's write path (docs/gc.md, "Mark versus sweep on one node"):
 * the real store and the real GcNode, the GcNode as the put's {@link AppendMarker}.
 */
class SweepVersusPutTest {

    @TempDir
    Path dir;

    @Test
    void aSweepWaitsForAPutsAppendAndKeepsWhatThePutMarked() throws Exception {
        List<ChunkData> old = pages(1, 2);
        List<ChunkData> put = pages(2, 3);
        ExecutorService sweeper = Executors.newSingleThreadExecutor();
        try (ChunkStore store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults());
             GcNode gc = GcNode.open("node-1", dir.resolve("gc"), store)) {
            store.append(old).get(30, TimeUnit.SECONDS); // before any epoch: never marked
            gc.arm(1);
            store.pauseCommits();
            CompletableFuture<Void> putting = store.append(put, gc);

            AtomicReference<Thread> sweeping = new AtomicReference<>();
            Future<SweepReport> sweep = sweeper.submit(() -> {
                sweeping.set(Thread.currentThread());
                return gc.sweep(1);
            });
            awaitParked(sweeping);
            assertFalse(sweep.isDone(), "the sweep went ahead while a put's append was not durable");

            store.resumeCommits();
            putting.get(30, TimeUnit.SECONDS);
            SweepReport report = sweep.get(30, TimeUnit.SECONDS);
            // The put's chunks were not indexed when the sweep read its first page: whether a later
            // page meets them depends on id order, but marked with the epoch, they must stay.
            assertEquals(old.size(), report.freedChunks());
            for (ChunkData chunk : put) {
                assertTrue(store.contains(chunk.id()));
            }
            assertFalse(store.contains(old.get(0).id()));
        } finally {
            sweeper.shutdownNow();
        }
    }

    @Test
    void aSweepIsTimedOnTheNodesClock() throws Exception {
        ManualClock manual = new ManualClock();
        // Every reading moves time on by 250 ms: the sweep reads the clock at its start and its end.
        Clock ticking = new Clock() {
            @Override
            public long nanoTime() {
                long now = manual.nanoTime();
                manual.advance(Duration.ofMillis(250));
                return now;
            }

            @Override
            public long millis() {
                return manual.millis();
            }
        };
        try (ChunkStore store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults());
             GcNode gc = GcNode.open("node-1", dir.resolve("gc"), store, new NodeMetrics(), ticking)) {
            store.append(pages(3, 2), gc).get(30, TimeUnit.SECONDS);
            gc.arm(1);
            SweepReport report = gc.sweep(1);
            assertEquals(2, report.freedChunks());
            assertEquals(250, report.durationMillis());
        }
    }

    /** Until the sweeping thread is parked (on the GC lock the put holds): no sleep-and-hope. */
    private static void awaitParked(AtomicReference<Thread> sweeping) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (sweeping.get() == null || sweeping.get().getState() != Thread.State.WAITING) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the sweep never waited for the put");
            }
            Thread.onSpinWait();
        }
    }
}
