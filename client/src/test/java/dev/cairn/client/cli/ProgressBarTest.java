package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The bar redraws at most ten times a second and shows the rate since the start, on the clock it is given. */
class ProgressBarTest {

    @Test
    void redrawsAtMostEvery100MsAndComputesTheRateFromItsClock() {
        ManualClock clock = new ManualClock();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "put", clock);

        bar.onProgress(0, 100_000_000);
        assertEquals(1, draws(bytes), "the first update draws");
        clock.advance(Duration.ofMillis(50));
        bar.onProgress(5_000_000, 100_000_000);
        assertEquals(1, draws(bytes), "50 ms later: no redraw");
        clock.advance(Duration.ofMillis(950));
        bar.onProgress(10_000_000, 100_000_000);
        assertEquals(2, draws(bytes));
        String last = lastDraw(bytes);
        // 10 MB in one second of the clock; 90 MB left at that rate is 9 s.
        assertTrue(last.contains(" 10% ") && last.contains("10.0 MB/s") && last.contains("ETA 0:09"), last);
        bar.onProgress(100_000_000, 100_000_000);
        assertEquals(3, draws(bytes), "the last update always draws");
    }

    private static int draws(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8).split("\r", -1).length - 1;
    }

    private static String lastDraw(ByteArrayOutputStream bytes) {
        String all = bytes.toString(StandardCharsets.UTF_8);
        return all.substring(all.lastIndexOf('\r'));
    }
}
