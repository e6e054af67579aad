package dev.cairn.engine;

/**
 * The one source of time for every component that measures a duration, waits for a deadline or
 * stamps a wall-clock time.
 *
 * <p>Components take a {@code Clock} instead of calling {@link System#nanoTime()} or
 * {@link System#currentTimeMillis()}, so a test can move time forward by hand ({@link ManualClock})
 * and check hedging, leases and GC waits without sleeping on the wall clock.
 */
public interface Clock {

    /** The machine's clocks. */
    Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long millis() {
            return System.currentTimeMillis();
        }
    };

    /** A monotonic reading in nanoseconds, for durations and deadlines; its origin means nothing. */
    long nanoTime();

    /** Wall-clock milliseconds since the epoch, for times that are stored or shown. */
    long millis();
}
