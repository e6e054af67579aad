package dev.cairn.server.gc;

import dev.cairn.engine.Clock;
import dev.cairn.server.meta.CatalogException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Step 3 of an epoch (docs/gc.md): asks the catalog for GC_MAY_SWEEP(E) again every 100 ms while
 * it answers BUSY (upload sessions opened before the epoch are still leased), and abandons the
 * epoch once they are still open after the longest wait allowed, measured on the coordinator's clock.
 */
final class SessionWait {

    static final Duration RETRY_EVERY = Duration.ofMillis(100);

    /** Waits between two tries; a test seam, so that a test moves a ManualClock instead of sleeping. */
    interface Pause {
        void pause(Duration duration) throws InterruptedException;
    }

    static final Pause SLEEP = duration -> Thread.sleep(duration.toMillis());

    private final Clock clock;
    private final Pause pause;

    SessionWait(Clock clock, Pause pause) {
        this.clock = clock;
        this.pause = pause;
    }

    /**
     * The log index at which GC_MAY_SWEEP(epoch) committed. Throws {@link GcCoordinator.Abandon} when
     * the catalog refuses it for another reason than BUSY, when the sessions are still open after
     * {@code maxWait}, or when interrupted. {@code say} gets one line when the waiting starts.
     */
    long await(long epoch, Duration maxWait, Supplier<CompletableFuture<Long>> maySweep, Consumer<String> say) {
        long deadline = clock.nanoTime() + maxWait.toNanos();
        boolean told = false;
        while (true) {
            try {
                return maySweep.get().get();
            } catch (ExecutionException e) {
                Throwable cause = GcCoordinator.unwrap(e);
                if (!(cause instanceof CatalogException c) || c.code() != CatalogException.Code.BUSY) {
                    throw new GcCoordinator.Abandon("GC_MAY_SWEEP(" + epoch + ") failed: " + GcCoordinator.rootMessage(e));
                }
                if (clock.nanoTime() > deadline) {
                    throw new GcCoordinator.Abandon("upload sessions opened before the epoch are still open after "
                            + maxWait.toSeconds() + " s: " + cause.getMessage());
                }
                if (!told) {
                    say.accept("waiting for upload sessions older than the epoch: " + cause.getMessage());
                    told = true;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GcCoordinator.Abandon("interrupted");
            }
            try {
                pause.pause(RETRY_EVERY);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GcCoordinator.Abandon("interrupted");
            }
        }
    }
}
