package dev.cairn.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ManualClockTest {

    @Test
    void bothReadingsMoveTogetherAndOnlyWhenTold() {
        ManualClock clock = new ManualClock(5_000L);
        assertEquals(0L, clock.nanoTime());
        assertEquals(5_000L, clock.millis());
        clock.advance(Duration.ofMillis(1_500));
        assertEquals(1_500_000_000L, clock.nanoTime());
        assertEquals(6_500L, clock.millis());
    }

    @Test
    void refusesToGoBack() {
        ManualClock clock = new ManualClock();
        assertThrows(IllegalArgumentException.class, () -> clock.advance(Duration.ofNanos(-1)));
        assertEquals(0L, clock.nanoTime());
    }
}
