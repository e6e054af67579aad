package dev.cairn.server.http;

import dev.cairn.config.HttpLimits;

/**
 * The decision whether one HTTP client holds its transfer too long or too slowly, on times the
 * caller reads from its clock: a whole-request deadline, a minimum rate over the time the node
 * waits on the client, and a write-idle limit for an answer the client has stopped reading. Time
 * the node spends on its own work (a put's quorum writes, a get's chunk reads) is never held
 * against the client. Confined to one connection's event loop.
 */
final class TransferPace {

    /** What a check found; anything but {@code OK} ends the connection. */
    enum Verdict { OK, DEADLINE, TOO_SLOW, WRITE_IDLE }

    private final HttpLimits limits;
    private final long startNanos;
    private long sinceNanos;
    private boolean owesBody;
    private boolean owesRead;
    /** Time the node has waited on the client since the rate was last judged. */
    private long owedNanos;
    /** Body bytes moved (in or out) since the rate was last judged. */
    private long movedBytes;
    /** When the answer last stopped moving while the client held it up, or -1 while it moves. */
    private long stalledSinceNanos = -1;

    TransferPace(HttpLimits limits, long startNanos) {
        this.limits = limits;
        this.startNanos = startNanos;
        this.sinceNanos = startNanos;
    }

    /**
     * Records who the transfer waits on from {@code now}: the client when it owes body bytes the
     * node is ready to take ({@code owesBody}) or has not taken answer bytes the node has queued
     * ({@code owesRead}).
     */
    void waitingOn(long now, boolean owesBody, boolean owesRead) {
        accrue(now);
        this.owesBody = owesBody;
        this.owesRead = owesRead;
        if (!owesRead) {
            stalledSinceNanos = -1;
        } else if (stalledSinceNanos < 0) {
            stalledSinceNanos = now;
        }
    }

    private void accrue(long now) {
        if (owesBody || owesRead) {
            owedNanos += now - sinceNanos;
        }
        sinceNanos = now;
    }

    /** {@code bytes} of a body arrived, or left for the client, at {@code now}. */
    void moved(long now, long bytes, boolean outbound) {
        movedBytes += bytes;
        if (outbound && stalledSinceNanos >= 0) {
            stalledSinceNanos = now;
        }
    }

    /**
     * Judges the transfer at {@code now}. The deadline is not applied while {@code nodeBusy} (the
     * whole request has arrived and the answer has not begun): cutting a put off then could not
     * stop its commit, and the delay is the node's.
     */
    Verdict check(long now, boolean nodeBusy) {
        accrue(now);
        if (!nodeBusy && now - startNanos >= limits.requestDeadline().toNanos()) {
            return Verdict.DEADLINE;
        }
        if (stalledSinceNanos >= 0 && now - stalledSinceNanos >= limits.writeIdle().toNanos()) {
            return Verdict.WRITE_IDLE;
        }
        long window = limits.rateWindow().toNanos();
        if (owedNanos >= window) {
            boolean slow = movedBytes < limits.minBytesPerSecond() * (owedNanos / 1e9);
            owedNanos = 0;
            movedBytes = 0;
            if (slow) {
                return Verdict.TOO_SLOW;
            }
        }
        return Verdict.OK;
    }
}
