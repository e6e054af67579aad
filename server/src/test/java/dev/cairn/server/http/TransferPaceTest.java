package dev.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.config.HttpLimits;
import dev.cairn.engine.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The slow-client decisions on a clock the test moves: no sockets, no waiting. */
class TransferPaceTest {

    /** 1 h deadline, 1000 bytes/s over 10 s, 60 s write idle. */
    private static final HttpLimits LIMITS = new HttpLimits(Duration.ofHours(1), 1000, Duration.ofSeconds(10),
            Duration.ofSeconds(60), Duration.ofSeconds(120), 8);

    private final ManualClock clock = new ManualClock();
    private final TransferPace pace = new TransferPace(LIMITS, clock.nanoTime());

    private void after(int seconds) {
        clock.advance(Duration.ofSeconds(seconds));
    }

    @Test
    void aBodyBelowTheMinimumRateForAWindowIsTooSlow() {
        pace.waitingOn(clock.nanoTime(), true, false);
        after(5);
        pace.moved(clock.nanoTime(), 5_000, false);
        assertEquals(TransferPace.Verdict.OK, pace.check(clock.nanoTime(), false), "half a window is not judged yet");
        after(5);
        assertEquals(TransferPace.Verdict.TOO_SLOW, pace.check(clock.nanoTime(), false), "5,000 bytes in 10 s");
    }

    @Test
    void aBodyAtTheMinimumRatePassesWindowAfterWindow() {
        pace.waitingOn(clock.nanoTime(), true, false);
        for (int window = 0; window < 5; window++) {
            after(10);
            pace.moved(clock.nanoTime(), 10_000, false);
            assertEquals(TransferPace.Verdict.OK, pace.check(clock.nanoTime(), false));
        }
    }

    @Test
    void timeTheNodeHoldsTheBodyBackIsNotHeldAgainstTheClient() {
        pace.waitingOn(clock.nanoTime(), true, false);
        pace.moved(clock.nanoTime(), 8 << 20, false);
        pace.waitingOn(clock.nanoTime(), false, false); // 8 MiB buffered: the node stops reading
        after(600);
        assertEquals(TransferPace.Verdict.OK, pace.check(clock.nanoTime(), false));
        pace.waitingOn(clock.nanoTime(), true, false); // reading again; the client sends nothing more
        after(10);
        assertEquals(TransferPace.Verdict.OK, pace.check(clock.nanoTime(), false), "the 8 MiB count in the first window");
        after(10);
        assertEquals(TransferPace.Verdict.TOO_SLOW, pace.check(clock.nanoTime(), false), "nothing in the second");
    }

    @Test
    void theDeadlineWaitsWhileTheNodeWorksAndCutsTheClientOtherwise() {
        after(3600);
        assertEquals(TransferPace.Verdict.OK, pace.check(clock.nanoTime(), true), "the node's own work is not cut");
        assertEquals(TransferPace.Verdict.DEADLINE, pace.check(clock.nanoTime(), false));
    }

    @Test
    void anAnswerTheClientStopsReadingTripsWriteIdleOnceNothingMovesForTheLimit() {
        HttpLimits noRate = new HttpLimits(Duration.ofHours(1), 0, Duration.ofSeconds(10), Duration.ofSeconds(60),
                Duration.ofSeconds(120), 8);
        TransferPace answer = new TransferPace(noRate, clock.nanoTime());
        answer.waitingOn(clock.nanoTime(), false, true);
        after(30);
        answer.moved(clock.nanoTime(), 65_536, true); // the client read a little
        after(50);
        assertEquals(TransferPace.Verdict.OK, answer.check(clock.nanoTime(), false), "50 s since the last byte left");
        after(10);
        assertEquals(TransferPace.Verdict.WRITE_IDLE, answer.check(clock.nanoTime(), false));
    }

    @Test
    void aNodeThatHasNothingToSendIsNotWaitingOnTheClient() {
        pace.waitingOn(clock.nanoTime(), false, false); // a get whose chunks are slow to come
        after(3000);
        assertEquals(TransferPace.Verdict.OK, pace.check(clock.nanoTime(), false));
    }
}
