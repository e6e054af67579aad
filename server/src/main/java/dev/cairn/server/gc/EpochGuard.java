package dev.cairn.server.gc;

import dev.cairn.engine.Clock;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.MetaService.LocalGcState;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether this node may arm or sweep a GC epoch by what its own catalog replica has
 * applied, never on a request's word alone (docs/gc.md, "Who decides an epoch").
 *
 * <p>The rules follow the coordinator's order. It arms every node <em>before</em> it commits
 * BEGIN_GC_EPOCH(E), because an upload session opened after that entry must find every node
 * already marking with E; so an arm may name only the epoch right after the one the replica shows
 * (arming E + 2, or an epoch already begun, is refused). It sends GC_SWEEP(E) only after
 * GC_MAY_SWEEP(E) committed; so a sweep needs the replica to show E begun and cleared to sweep. A
 * replica that is behind the coordinator's gets {@link #CATCH_UP} to apply the entry; then the
 * request is refused. The wait polls without holding a request worker.
 */
public final class EpochGuard {

    private static final Logger LOG = LoggerFactory.getLogger(EpochGuard.class);
    /**
     * How long a GC request waits for this node's replica to apply the entry that allows it. A
     * follower applies an entry milliseconds after its commit; seconds cover a busy disk, and a
     * request the catalog never decided is refused after that.
     */
    public static final Duration CATCH_UP = Duration.ofSeconds(5);
    /** How often a waiting request reads the replica's GC state again. */
    static final Duration POLL = Duration.ofMillis(10);

    /** Runs a task after a delay: a test seam, so that a test moves a ManualClock instead of sleeping. */
    interface Later {
        void after(Duration delay, Runnable task);
    }

    static final Later DELAYED = (delay, task) ->
            CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS).execute(task);

    /** What the replica's state says of a request: allowed, perhaps once the replica catches up, or never. */
    enum Verdict { YES, NOT_YET, NEVER }

    /** Thrown (inside the future) when the catalog did not decide the epoch a request names. */
    public static final class Refused extends IllegalStateException {
        Refused(String message) {
            super(message);
        }
    }

    private final String nodeId;
    private final Supplier<LocalGcState> replica;
    private final Clock clock;
    private final Duration catchUp;
    private final Later later;

    EpochGuard(String nodeId, Supplier<LocalGcState> replica, Clock clock, Duration catchUp, Later later) {
        this.nodeId = nodeId;
        this.replica = replica;
        this.clock = clock;
        this.catchUp = catchUp;
        this.later = later;
    }

    /** The guard of node {@code nodeId} over its catalog replica; with no catalog (a test's bare handler) it refuses all. */
    public static EpochGuard of(String nodeId, MetaService meta) {
        Supplier<LocalGcState> replica = meta != null ? meta::localGcState : () -> {
            throw new Refused("node " + nodeId + " has no catalog replica, so it takes no GC epoch from a request");
        };
        return new EpochGuard(nodeId, replica, Clock.SYSTEM, CATCH_UP, DELAYED);
    }

    /** Completes when GC_ARM(epoch) is the catalog's next epoch; fails with {@link Refused} otherwise. */
    public CompletableFuture<Void> mayArm(long epoch) {
        return new Attempt("GC_ARM", epoch, s -> armVerdict(epoch, s), "a node is armed only for the GC epoch right after the one its catalog"
                + " replica shows, just before the coordinator begins it").start();
    }

    /** Completes when the catalog began GC epoch {@code epoch} and cleared it to sweep; fails with {@link Refused} otherwise. */
    public CompletableFuture<Void> maySweep(long epoch) {
        return new Attempt("GC_SWEEP", epoch, s -> sweepVerdict(epoch, s), "a node sweeps only the GC epoch its catalog replica shows as begun and"
                + " cleared to sweep (GC_MAY_SWEEP)").start();
    }

    static Verdict armVerdict(long epoch, LocalGcState s) {
        if (epoch < 1 || s.epoch() >= epoch) {
            return Verdict.NEVER;
        }
        return s.epoch() == epoch - 1 ? Verdict.YES : Verdict.NOT_YET;
    }

    static Verdict sweepVerdict(long epoch, LocalGcState s) {
        if (epoch < 1 || s.epoch() > epoch) {
            return Verdict.NEVER;
        }
        return s.epoch() == epoch && s.maySweep() ? Verdict.YES : Verdict.NOT_YET;
    }

    /** One request's check, tried again every {@link #POLL} while the replica may still catch up. */
    private final class Attempt {
        private final String request;
        private final long epoch;
        private final Function<LocalGcState, Verdict> verdict;
        private final String rule;
        private final long deadline = clock.nanoTime() + catchUp.toNanos();
        private final CompletableFuture<Void> result = new CompletableFuture<>();
        private boolean waited;

        Attempt(String request, long epoch, Function<LocalGcState, Verdict> verdict, String rule) {
            this.request = request;
            this.epoch = epoch;
            this.verdict = verdict;
            this.rule = rule;
        }

        CompletableFuture<Void> start() {
            check();
            return result;
        }

        private void check() {
            try {
                LocalGcState s = replica.get();
                Verdict v = verdict.apply(s);
                if (v == Verdict.YES) {
                    result.complete(null);
                } else if (v == Verdict.NOT_YET && clock.nanoTime() < deadline) {
                    waited = true;
                    later.after(POLL, this::check);
                } else {
                    refuse(s);
                }
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }

        private void refuse(LocalGcState s) {
            String message = "node " + nodeId + " refuses " + request + "(" + epoch + "): its catalog replica shows GC"
                    + " epoch " + s.epoch() + (s.epoch() == 0 ? "" : s.maySweep() ? " cleared to sweep" : " not cleared to sweep")
                    + (waited ? " after waiting " + catchUp.toMillis() + " ms for it to catch up" : "") + "; " + rule
                    + ". Garbage is collected with `cairn admin gc`";
            LOG.warn("{}", message);
            result.completeExceptionally(new Refused(message));
        }
    }
}
