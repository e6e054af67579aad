package dev.cairn.client;

import java.time.Duration;
import java.util.Arrays;

/**
 * The recent round trips of this client's chunk reads, and the hedge delay they suggest: the
 * 95th percentile of the last {@link #SAMPLES} answered reads, never less than the configured
 * least delay and never more than {@link #MAX_HEDGE_DELAY}. Only answers are recorded, so a
 * stalled node (whose requests never answer) does not raise the delay that routes around it.
 */
final class ReadLatency {

    static final int SAMPLES = 128;
    /** However slow recent reads were, a replica silent for a second is worth a second request. */
    static final Duration MAX_HEDGE_DELAY = Duration.ofSeconds(1);
    /** The percentile is recomputed after this many new samples: a sort of 128 longs, not per read. */
    private static final int RECOMPUTE_EVERY = 16;

    private final long leastDelayNanos;
    private final long maxDelayNanos;
    private final long[] samples = new long[SAMPLES];
    private int count;
    private int next;
    private int sinceRecompute;
    private long p95Nanos;

    ReadLatency(Duration leastDelay) {
        this.leastDelayNanos = leastDelay.toNanos();
        this.maxDelayNanos = Math.max(leastDelayNanos, MAX_HEDGE_DELAY.toNanos());
    }

    synchronized void record(long roundTripNanos) {
        samples[next] = roundTripNanos;
        next = (next + 1) % SAMPLES;
        count = Math.min(SAMPLES, count + 1);
        if (++sinceRecompute >= RECOMPUTE_EVERY || count < RECOMPUTE_EVERY) {
            sinceRecompute = 0;
            long[] sorted = Arrays.copyOf(samples, count);
            Arrays.sort(sorted);
            p95Nanos = sorted[Math.min(count - 1, (int) Math.ceil(count * 0.95) - 1)];
        }
    }

    /** How long to wait for a replica before also asking the next one. */
    synchronized long hedgeDelayNanos() {
        return Math.min(maxDelayNanos, Math.max(leastDelayNanos, p95Nanos));
    }
}
