package dev.cairn.server.net;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of requests and answers the protocol port holds at once, all connections together
 * ({@code limits.maxInFlightBytes}); a connection whose next request does not fit waits for room.
 */
final class InFlightBudget {

    private final long maxBytes;
    private final AtomicLong used = new AtomicLong();
    /** Connections waiting for room, each to be woken once; a woken one that still does not fit waits again. */
    private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    InFlightBudget(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * Takes {@code bytes} if they fit. An empty budget takes any request, so one larger than the
     * whole budget still runs, alone.
     */
    boolean tryReserve(long bytes) {
        while (true) {
            long now = used.get();
            if (now > 0 && now + bytes > maxBytes) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Counts bytes the port holds whether or not they fit: an answer larger than its request expected. */
    void add(long bytes) {
        used.addAndGet(bytes);
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
        wake();
    }

    /** Runs {@code wake} once there may be room for {@code bytes} (at once, if there is room now). */
    void awaitRoom(long bytes, Runnable wake) {
        waiting.add(wake);
        // Room may have been released between the failed tryReserve and the line above.
        long now = used.get();
        if (now == 0 || now + bytes <= maxBytes) {
            wake();
        }
    }

    long usedBytes() {
        return used.get();
    }

    long maxBytes() {
        return maxBytes;
    }

    private void wake() {
        for (Runnable r = waiting.poll(); r != null; r = waiting.poll()) {
            r.run();
        }
    }
}
