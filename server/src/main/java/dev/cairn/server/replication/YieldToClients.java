package dev.cairn.server.replication;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Holds one background pass back while clients are busy. Before each step of the pass it waits
 * until the node has served no client chunk request for {@code quiet}; a checkpoint being written
 * or restored then gets the CPU and the disk, and the pass goes on in the gaps between them. A pass
 * is held back at most {@code maxHeld} in all, so a node that is never quiet still repairs.
 *
 * <p>Only passes the node starts on its own schedule yield; a pass an operator asked for runs at
 * once, since the operator is waiting for it. For the same reason a scheduled pass stops yielding
 * as soon as an operator's pass waits behind it ({@code hurry}).
 */
final class YieldToClients {

    /** How the pass waits: {@link Thread#sleep} on a node, a clock that moves on in tests. */
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private final ClientTraffic traffic;
    private final Duration quiet;
    private final Duration maxHeld;
    private final Sleeper sleeper;
    private final BooleanSupplier hurry;
    private Duration held = Duration.ZERO;

    /** @param hurry true while someone waits for this pass to end: it then no longer yields */
    YieldToClients(ClientTraffic traffic, Duration quiet, Duration maxHeld, Sleeper sleeper, BooleanSupplier hurry) {
        this.traffic = traffic;
        this.quiet = quiet;
        this.maxHeld = maxHeld;
        this.sleeper = sleeper;
        this.hurry = hurry;
    }

    /** Waits until clients have been quiet long enough, or the pass's allowance is spent. */
    Duration beforeStep() throws InterruptedException {
        Duration waited = Duration.ZERO;
        while (!hurry.getAsBoolean()) {
            Duration quietFor = traffic.quietFor();
            if (quietFor == null || quietFor.compareTo(quiet) >= 0) {
                return waited;
            }
            Duration left = maxHeld.minus(held);
            if (left.isNegative() || left.isZero()) {
                return waited;
            }
            Duration wait = quiet.minus(quietFor);
            if (wait.compareTo(left) > 0) {
                wait = left;
            }
            sleeper.sleep(wait);
            held = held.plus(wait);
            waited = waited.plus(wait);
        }
        return waited;
    }

    /** How long this pass has been held back so far. */
    Duration held() {
        return held;
    }
}
