package dev.cairn.server.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ManualClock;
import dev.cairn.server.meta.MetaService.LocalGcState;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The rules by which a node takes GC_ARM and GC_SWEEP from its own catalog replica, against a
 * replica state the test sets, on a ManualClock that each poll moves forward.
 */
class EpochGuardTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(5);

    private final ManualClock clock = new ManualClock();
    private final AtomicReference<LocalGcState> replica = new AtomicReference<>(new LocalGcState(3, true));
    private final Queue<Runnable> polls = new ArrayDeque<>();
    private final EpochGuard guard = new EpochGuard("node-1", replica::get, clock, CATCH_UP, (delay, task) -> {
        clock.advance(delay);
        polls.add(task);
    });
    private int pollsRun;

    /** Runs the queued polls one after another (no recursion), calling {@code between} before each. */
    private void drain(Runnable between) {
        while (!polls.isEmpty()) {
            between.run();
            pollsRun++;
            polls.remove().run();
        }
    }

    private static String refusal(CompletableFuture<Void> f) {
        assertTrue(f.isCompletedExceptionally(), "not refused");
        Throwable t = f.handle((v, e) -> e instanceof CompletionException c ? c.getCause() : e).join();
        assertInstanceOf(EpochGuard.Refused.class, t);
        return t.getMessage();
    }

    @Test
    void armTakesOnlyTheEpochAfterTheReplicasAndSweepOnlyTheOneClearedToSweep() {
        assertTrue(guard.mayArm(4).isDone() && !guard.mayArm(4).isCompletedExceptionally());
        assertTrue(guard.maySweep(3).isDone() && !guard.maySweep(3).isCompletedExceptionally());
        assertTrue(refusal(guard.mayArm(3)).contains("refuses GC_ARM(3): its catalog replica shows GC epoch 3"));
        assertTrue(refusal(guard.mayArm(0)).contains("GC_ARM(0)"));
        assertTrue(refusal(guard.maySweep(2)).contains("refuses GC_SWEEP(2)"));
        assertTrue(polls.isEmpty(), "a request the replica can never allow waited");
    }

    @Test
    void aReplicaBehindTheCoordinatorsIsWaitedFor() {
        replica.set(new LocalGcState(2, true));
        CompletableFuture<Void> arm = guard.mayArm(4); // the coordinator's replica began 3; ours has not yet
        CompletableFuture<Void> sweep = guard.maySweep(3);
        assertFalse(arm.isDone());
        assertFalse(sweep.isDone());
        drain(() -> {
            if (pollsRun == 20) {
                replica.set(new LocalGcState(3, false)); // BEGIN_GC_EPOCH(3) applied
            } else if (pollsRun == 40) {
                replica.set(new LocalGcState(3, true)); // GC_MAY_SWEEP(3) applied
            }
        });
        assertTrue(arm.isDone() && !arm.isCompletedExceptionally());
        assertTrue(sweep.isDone() && !sweep.isCompletedExceptionally());
    }

    @Test
    void whatTheReplicaDoesNotShowWithinTheCatchUpTimeIsRefused() {
        replica.set(new LocalGcState(3, false));
        CompletableFuture<Void> jump = guard.mayArm(5);
        CompletableFuture<Void> early = guard.maySweep(3); // begun, not cleared: the marks may be incomplete
        long start = clock.nanoTime();
        drain(() -> { });
        assertEquals(CATCH_UP.toNanos(), clock.nanoTime() - start, EpochGuard.POLL.toNanos());
        assertTrue(refusal(jump).contains("after waiting 5000 ms"), refusal(jump));
        String why = refusal(early);
        assertTrue(why.contains("GC epoch 3 not cleared to sweep") && why.contains("GC_MAY_SWEEP"), why);
    }

    @Test
    void aNodeWithoutACatalogRefusesEveryEpoch() {
        EpochGuard bare = EpochGuard.of("node-1", null);
        assertTrue(refusal(bare.mayArm(1)).contains("no catalog replica"));
        assertTrue(refusal(bare.maySweep(1)).contains("no catalog replica"));
    }
}
