package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReadLatencyTest {

    private static final long MS = 1_000_000;

    @Test
    void aNewClientWaits100MsThenTheLeastDelayWhileReadsAreFast() {
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20));
        assertEquals(100 * MS, latency.hedgeDelayNanos(), "nothing timed yet");
        for (int i = 0; i < ReadLatency.WARM_UP_SAMPLES; i++) {
            latency.record(2 * MS);
        }
        assertEquals(20 * MS, latency.hedgeDelayNanos());
    }

    @Test
    void slowReadsRaiseTheDelayToTheirP95UpToOneSecond() {
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20));
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
        ReadLatency latency = new ReadLatency(Duration.ofSeconds(30));
        latency.record(MS);
        assertEquals(Duration.ofSeconds(30).toNanos(), latency.hedgeDelayNanos(), "30 s turns hedging off");
    }

    @Test
    void lastAnswerPerNodeOnlyMovesForward() {
        ReadLatency latency = new ReadLatency(Duration.ofMillis(20));
        assertEquals(Long.MIN_VALUE, latency.lastAnswerFrom("a"));
        latency.answeredBy("a", 200);
        latency.answeredBy("a", 100);
        assertEquals(200, latency.lastAnswerFrom("a"));
        assertEquals(Long.MIN_VALUE, latency.lastAnswerFrom("b"));
    }
}
