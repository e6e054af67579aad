package dev.cairn.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A scheduled pass steps aside while clients are busy, and only for so long. On a manual clock. */
class YieldToClientsTest {

    private static final Duration QUIET = Duration.ofSeconds(1);
    private static final Duration MAX_HELD = Duration.ofSeconds(10);

    /** Time that moves only when the pass sleeps; clients may arrive during each sleep. */
    private static final class FakeTime {
        final ManualClock clock = new ManualClock();
        final List<Duration> sleeps = new ArrayList<>();
        final ClientTraffic traffic = new ClientTraffic(clock);
        /** How many of the coming sleeps a client request arrives at their end. */
        int busySleeps;
        /** Whether an operator's pass waits behind this one. */
        boolean hurry;

        YieldToClients yielding() {
            return new YieldToClients(traffic, QUIET, MAX_HELD, d -> {
                sleeps.add(d);
                clock.advance(d);
                if (busySleeps > 0) {
                    busySleeps--;
                    traffic.record();
                }
            }, () -> hurry);
        }

        void advance(Duration d) {
            clock.advance(d);
        }
    }

    @Test
    void aNodeNoClientHasUsedIsQuietAndThePassGoesAtOnce() throws Exception {
        FakeTime time = new FakeTime();
        YieldToClients yield = time.yielding();
        assertEquals(Duration.ZERO, yield.beforeStep());
        assertTrue(time.sleeps.isEmpty());
    }

    @Test
    void aStepWaitsOutTheRestOfTheQuietTimeAfterTheLastRequest() throws Exception {
        FakeTime time = new FakeTime();
        time.traffic.record();
        time.advance(Duration.ofMillis(300));
        YieldToClients yield = time.yielding();
        assertEquals(Duration.ofMillis(700), yield.beforeStep());
        assertEquals(List.of(Duration.ofMillis(700)), time.sleeps);
        // Quiet since: the next step goes at once.
        assertEquals(Duration.ZERO, yield.beforeStep());
    }

    @Test
    void requestsDuringTheWaitPushTheStepBackUntilClientsStop() throws Exception {
        FakeTime time = new FakeTime();
        time.traffic.record();
        time.busySleeps = 3; // clients keep coming through three waits, then stop
        YieldToClients yield = time.yielding();
        assertEquals(Duration.ofSeconds(4), yield.beforeStep());
        assertEquals(4, time.sleeps.size());
        assertEquals(Duration.ofSeconds(4), yield.held());
    }

    @Test
    void clientsThatNeverStopHoldThePassBackOnlyUpToItsAllowance() throws Exception {
        FakeTime time = new FakeTime();
        time.traffic.record();
        time.busySleeps = Integer.MAX_VALUE;
        YieldToClients yield = time.yielding();
        assertEquals(MAX_HELD, yield.beforeStep());
        // The allowance is the pass's, not the step's: later steps no longer wait.
        time.traffic.record();
        assertEquals(Duration.ZERO, yield.beforeStep());
        assertEquals(MAX_HELD, yield.held());
        assertEquals(MAX_HELD, time.sleeps.stream().reduce(Duration.ZERO, Duration::plus));
    }

    @Test
    void theLastWaitIsCutToWhatIsLeftOfTheAllowance() throws Exception {
        FakeTime time = new FakeTime();
        YieldToClients yield = new YieldToClients(time.traffic, QUIET, Duration.ofMillis(2500), d -> {
            time.sleeps.add(d);
            time.advance(d);
            time.traffic.record();
        }, () -> false);
        time.traffic.record();
        assertEquals(Duration.ofMillis(2500), yield.beforeStep());
        assertEquals(List.of(QUIET, QUIET, Duration.ofMillis(500)), time.sleeps);
    }

    @Test
    void anOperatorWaitingBehindThePassEndsTheYielding() throws Exception {
        FakeTime time = new FakeTime();
        time.traffic.record();
        time.busySleeps = Integer.MAX_VALUE;
        time.hurry = true;
        YieldToClients yield = time.yielding();
        assertEquals(Duration.ZERO, yield.beforeStep());
        assertTrue(time.sleeps.isEmpty(), "busy clients, but someone waits for this pass to end");
    }
}
