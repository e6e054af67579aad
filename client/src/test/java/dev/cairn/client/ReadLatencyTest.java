package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.Clock;
import dev.cairn.engine.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReadLatencyTest {

    private static final long MS = 1_000_000;

    @Test
    void aNewClientWaits100MsThenTheLeastDelayWhileReadsAreFast() {
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20), Clock.SYSTEM);
        assertEquals(100 * MS, latency.hedgeDelayNanos(), "nothing timed yet");
        for (int i = 0; i < ReadLatency.WARM_UP_SAMPLES; i++) {
            latency.record(2 * MS);
        }
        assertEquals(20 * MS, latency.hedgeDelayNanos());
    }

    @Test
    void slowReadsRaiseTheDelayToTheirP95UpToOneSecond() {
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20), Clock.SYSTEM);
        for (int i = 0; i < ReadLatency.SAMPLES; i++) {
            latency.record((i < 120 ? 50 : 400) * MS); // 8 of 128 slow: the p95 is one of them
        }
        assertEquals(400 * MS, latency.hedgeDelayNanos());
        for (int i = 0; i < ReadLatency.SAMPLES; i++) {
            latency.record(5_000 * MS);
        }
        assertEquals(ReadLatency.MAX_HEDGE_DELAY.toNanos(), latency.hedgeDelayNanos());
    }

    @Test
    void aLeastDelayAboveTheCapIsKept() {
        ReadLatency latency = new ReadLatency(Duration.ofSeconds(30), Clock.SYSTEM);
        latency.record(MS);
        assertEquals(Duration.ofSeconds(30).toNanos(), latency.hedgeDelayNanos(), "30 s turns hedging off");
    }

    @Test
    void lastAnswerPerNodeOnlyMovesForward() {
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20), Clock.SYSTEM);
        assertEquals(Long.MIN_VALUE, latency.lastAnswerFrom("a"));
        latency.answeredBy("a", 200);
        latency.answeredBy("a", 100);
        assertEquals(200, latency.lastAnswerFrom("a"));
        assertEquals(Long.MIN_VALUE, latency.lastAnswerFrom("b"));
    }

    @Test
    void aSilentNodeIsHedgedOneDelayAfterTheSendWithoutSleeping() {
        ManualClock clock = new ManualClock();
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20), clock);
        long delay = latency.hedgeDelayNanos();
        assertEquals(100 * MS, delay, "a new client's warm-up delay");
        long sentAt = latency.now();
        clock.advance(Duration.ofMillis(99));
        assertEquals(1 * MS, latency.hedgeWaitNanos("a", sentAt, delay), "1 ms before the delay: wait");
        clock.advance(Duration.ofMillis(1));
        assertTrue(latency.hedgeWaitNanos("a", sentAt, delay) <= 0, "silent for the delay: ask the next replica");
    }

    @Test
    void aNodeAnsweringOtherReadsIsGivenOneDelayFromItsLastAnswer() {
        ManualClock clock = new ManualClock();
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20), clock);
        long delay = 100 * MS;
        long sentAt = latency.now();
        clock.advance(Duration.ofMillis(80));
        latency.answered("a", latency.now() - 30 * MS, true); // another read of node a, 30 ms round trip
        clock.advance(Duration.ofMillis(20));
        assertEquals(80 * MS, latency.hedgeWaitNanos("a", sentAt, delay), "busy, not stalled: look again later");
        assertTrue(latency.hedgeWaitNanos("b", sentAt, delay) <= 0, "node b said nothing: hedge it");
        clock.advance(Duration.ofMillis(80));
        assertTrue(latency.hedgeWaitNanos("a", sentAt, delay) <= 0, "quiet for a whole delay since its last answer");
    }

    @Test
    void readsInProcessDoNotCountAsRoundTrips() {
        ManualClock clock = new ManualClock();
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20), clock);
        for (int i = 0; i < ReadLatency.WARM_UP_SAMPLES; i++) {
            long sent = latency.now();
            clock.advance(Duration.ofMillis(500));
            latency.answered("local", sent, false);
        }
        assertEquals(100 * MS, latency.hedgeDelayNanos(), "still warming up: no network read was timed");
        for (int i = 0; i < ReadLatency.WARM_UP_SAMPLES; i++) {
            long sent = latency.now();
            clock.advance(Duration.ofMillis(2));
            latency.answered("peer", sent, true);
        }
        assertEquals(20 * MS, latency.hedgeDelayNanos());
    }
}
