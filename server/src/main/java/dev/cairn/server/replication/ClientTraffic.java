package dev.cairn.server.replication;

import dev.cairn.engine.Clock;
import java.time.Duration;

/**
 * When this node last served a put or get of chunks, so that background passes can step aside
 * while checkpoints are being written or restored. Peers' repair copies (PUT_CHUNKS) and scrub
 * fetches (GET_CHUNKS) count too: the node cannot tell them from a client's, and they are rare.
 * HAS questions do not. Thread-safe; recording is one volatile write, cheap enough for every
 * request.
 */
public final class ClientTraffic {

    private final Clock clock;
    /** {@link Long#MIN_VALUE} until the first request: a node that served nothing is quiet. */
    private volatile long lastNanos = Long.MIN_VALUE;

    public ClientTraffic() {
        this(Clock.SYSTEM);
    }

    /** Traffic timed on {@code clock}'s monotonic reading. */
    public ClientTraffic(Clock clock) {
        this.clock = clock;
    }

    /** A client's chunk request arrived now. */
    public void record() {
        lastNanos = clock.nanoTime();
    }

    /** How long since the last client request, or {@code null} if there was none. */
    public Duration quietFor() {
        long last = lastNanos;
        return last == Long.MIN_VALUE ? null : Duration.ofNanos(clock.nanoTime() - last);
    }
}
