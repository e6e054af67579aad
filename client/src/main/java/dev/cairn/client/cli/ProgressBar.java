package dev.cairn.client.cli;

import dev.cairn.client.ProgressListener;
import dev.cairn.engine.Clock;
import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar on stderr (bytes, MB/s, ETA), redrawn at most ten times a second. */
final class ProgressBar implements ProgressListener {

    private final PrintStream err;
    private final String label;
    private final Clock clock;
    private final long startNs;
    private long lastDrawNs;
    private boolean drawn;

    ProgressBar(PrintStream err, String label, Clock clock) {
        this.err = err;
        this.label = label;
        this.clock = clock;
        this.startNs = clock.nanoTime();
        this.lastDrawNs = startNs - REDRAW_NANOS;
    }

    /** At most ten redraws a second. */
    private static final long REDRAW_NANOS = 100_000_000L;

    /**
     * A bar when the invocation may draw one (its stderr is a terminal), nothing otherwise: scripts,
     * CI and the agent's callers see no control characters.
     */
    static ProgressListener of(Invocation invocation, String label) {
        return invocation.progress() ? new ProgressBar(invocation.err(), label, invocation.clock()) : ProgressListener.NONE;
    }

    @Override
    public void onProgress(long doneBytes, long totalBytes) {
        long now = clock.nanoTime();
        if (now - lastDrawNs < REDRAW_NANOS && doneBytes != totalBytes) {
            return;
        }
        lastDrawNs = now;
        double seconds = Math.max(1e-3, (now - startNs) / 1e9);
        double mbps = doneBytes / 1e6 / seconds;
        StringBuilder line = new StringBuilder("\r").append(label).append(' ');
        if (totalBytes > 0) {
            int percent = (int) Math.min(100, doneBytes * 100 / totalBytes);
            int filled = percent / 5;
            line.append('[').append("#".repeat(filled)).append(" ".repeat(20 - filled)).append("] ")
                    .append(String.format(Locale.ROOT, "%3d%% ", percent));
            line.append(Output.bytes(doneBytes)).append(" / ").append(Output.bytes(totalBytes));
            double eta = mbps > 0 ? (totalBytes - doneBytes) / 1e6 / mbps : 0;
            line.append(String.format(Locale.ROOT, "  %.1f MB/s  ETA %d:%02d", mbps, (int) eta / 60, (int) eta % 60));
        } else {
            line.append(Output.bytes(doneBytes)).append(String.format(Locale.ROOT, "  %.1f MB/s", mbps));
        }
        err.print(line.append("\u001b[K"));
        err.flush();
        drawn = true;
    }

    /** Ends the bar's line so the next output starts clean. */
    void finish() {
        if (drawn) {
            err.println();
        }
    }
}
