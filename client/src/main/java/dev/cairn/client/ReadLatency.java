package dev.cairn.client;

import java.time.Duration;
import java.util.Arrays;

/**
 * The recent round trips of this client's chunk reads, and the hedge delay they suggest: the
 * 95th percentile of the last {@link #SAMPLES} answered reads, never less than the configured
 * least delay and never more than {@link #MAX_HEDGE_DELAY} (a new client, with fewer than
 * {@link #WARM_UP_SAMPLES} reads timed, assumes at least {@link #WARM_UP_HEDGE_DELAY}). Only
 * answers are recorded, so a stalled node (whose requests never answer) does not raise the delay
 * that routes around it. Also when each node last answered a chunk read, which tells a stalled
 * node from a busy one.
 */
final class ReadLatency {

    static final int SAMPLES = 128;
    /** However slow recent reads were, a replica silent for a second is worth a second request. */
    static final Duration MAX_HEDGE_DELAY = Duration.ofSeconds(1);
    /**
     * Until this client has timed {@link #WARM_UP_SAMPLES} reads it knows nothing of the cluster's
     * latency, and its first batches all go out at once: wait this long rather than hedge them all.
     */
    static final Duration WARM_UP_HEDGE_DELAY = Duration.ofMillis(100);
    static final int WARM_UP_SAMPLES = 8;
    /** The percentile is recomputed after this many new samples: a sort of 128 longs, not per read. */
    private static final int RECOMPUTE_EVERY = 16;

    private final long leastDelayNanos;
    private final long maxDelayNanos;
    private final long[] samples = new long[SAMPLES];
    private int count;
    private int next;
    private int sinceRecompute;
    private long p95Nanos;
    private final dev.cairn.engine.Clock clock;
    /** When each node last answered a chunk read (the clock's {@code nanoTime}). */
    private final java.util.concurrent.ConcurrentHashMap<String, Long> lastAnswer = new java.util.concurrent.ConcurrentHashMap<>();

    ReadLatency(Duration leastDelay, dev.cairn.engine.Clock clock) {
        this.clock = clock;
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

    /** Now, on this client's clock: when a chunk read is sent. */
    long now() {
        return clock.nanoTime();
    }

    /**
     * {@code node} answered a chunk read sent at {@code sentAtNanos}; its round trip counts toward
     * the hedge delay when {@code roundTrip} (not for a read in process).
     */
    void answered(String node, long sentAtNanos, boolean roundTrip) {
        long now = clock.nanoTime();
        if (roundTrip) {
            record(now - sentAtNanos);
        }
        answeredBy(node, now);
    }

    void answeredBy(String node, long nowNanos) {
        lastAnswer.merge(node, nowNanos, Math::max);
    }

    /**
     * How much longer a read sent to {@code node} at {@code sentAtNanos} waits before the next
     * replica is asked too; zero or less: ask it now. The node has been quiet since the later of
     * the send and its last answer to any chunk read: a node answering other reads is working
     * through its queue, not stalled.
     */
    long hedgeWaitNanos(String node, long sentAtNanos, long delayNanos) {
        long quietSince = Math.max(sentAtNanos, lastAnswerFrom(node));
        return delayNanos - (clock.nanoTime() - quietSince);
    }

    /** When {@code node} last answered a chunk read, or {@link Long#MIN_VALUE} if never. */
    long lastAnswerFrom(String node) {
        return lastAnswer.getOrDefault(node, Long.MIN_VALUE);
    }

    /** How long to wait for a replica before also asking the next one. */
    synchronized long hedgeDelayNanos() {
        long estimate = count < WARM_UP_SAMPLES ? Math.max(p95Nanos, WARM_UP_HEDGE_DELAY.toNanos()) : p95Nanos;
        return Math.min(maxDelayNanos, Math.max(leastDelayNanos, estimate));
    }
}
