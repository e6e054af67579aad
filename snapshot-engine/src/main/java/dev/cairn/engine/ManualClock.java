package dev.cairn.engine;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that moves only when told to: the test seam for code that measures time.
 *
 * <p>Both readings advance together, so a duration measured on the monotonic reading and one
 * measured on the wall reading agree.
 */
public final class ManualClock implements Clock {

    private final AtomicLong nanos = new AtomicLong();
    private final long startMillis;

    /** A clock whose wall reading starts at {@code startMillis}. */
    public ManualClock(long startMillis) {
        this.startMillis = startMillis;
    }

    /** A clock whose wall reading starts at an arbitrary fixed instant (2026-01-01T00:00Z). */
    public ManualClock() {
        this(1_767_225_600_000L);
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public long millis() {
        return startMillis + nanos.get() / 1_000_000L;
    }

    /** Moves both readings forward by {@code step}, which must not be negative. */
    public void advance(Duration step) {
        if (step.isNegative()) {
            throw new IllegalArgumentException("a clock does not go back: " + step);
        }
        nanos.addAndGet(step.toNanos());
    }
}
