package dev.cairn.server.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ManualClock;
import dev.cairn.server.meta.CatalogException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Step 3 of an epoch against a catalog that answers BUSY: how long the coordinator waits for old
 * upload sessions is decided on its clock, here a ManualClock that each pause moves forward.
 */
class SessionWaitTest {

    private final ManualClock clock = new ManualClock();
    private final List<Duration> pauses = new ArrayList<>();
    private final List<String> said = new ArrayList<>();
    private final SessionWait wait = new SessionWait(clock, pause -> {
        pauses.add(pause);
        clock.advance(pause);
    });

    private static CompletableFuture<Long> busy() {
        return CompletableFuture.failedFuture(new CatalogException(CatalogException.Code.BUSY,
                "session s-1 opened before the epoch is open"));
    }

    @Test
    void sessionsStillOpenAfterTheLongestWaitAbandonTheEpoch() {
        AtomicInteger tries = new AtomicInteger();
        GcCoordinator.Abandon abandoned = assertThrows(GcCoordinator.Abandon.class,
                () -> wait.await(7, Duration.ofSeconds(1), () -> {
                    tries.incrementAndGet();
                    return busy();
                }, said::add));

        // Tries at 0, 0.1, ..., 1.0 s are within the wait; the one at 1.1 s is past it.
        assertEquals(12, tries.get());
        assertEquals(Duration.ofMillis(1100), Duration.ofNanos(clock.nanoTime()));
        assertTrue(pauses.stream().allMatch(SessionWait.RETRY_EVERY::equals), pauses.toString());
        assertTrue(abandoned.getMessage().startsWith("upload sessions opened before the epoch are still open after 1 s"),
                abandoned.getMessage());
        assertEquals(List.of("waiting for upload sessions older than the epoch: session s-1 opened before the epoch is open"),
                said);
    }

    @Test
    void theWaitEndsWhenTheSessionsHaveClosed() {
        AtomicInteger tries = new AtomicInteger();
        long index = wait.await(7, Duration.ofSeconds(90),
                () -> tries.incrementAndGet() <= 2 ? busy() : CompletableFuture.completedFuture(42L), said::add);

        assertEquals(42, index);
        assertEquals(3, tries.get());
        assertEquals(Duration.ofMillis(200), Duration.ofNanos(clock.nanoTime()));
        assertEquals(1, said.size(), said.toString());
    }

    @Test
    void aRefusalOtherThanBusyAbandonsAtOnce() {
        GcCoordinator.Abandon abandoned = assertThrows(GcCoordinator.Abandon.class,
                () -> wait.await(7, Duration.ofSeconds(90), () -> CompletableFuture.failedFuture(
                        new CatalogException(CatalogException.Code.INVALID, "no GC epoch 7 in progress")), said::add));

        assertEquals("GC_MAY_SWEEP(7) failed: no GC epoch 7 in progress", abandoned.getMessage());
        assertTrue(pauses.isEmpty());
        assertTrue(said.isEmpty());
    }
}
