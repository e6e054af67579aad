package dev.cairn.server.net;

import com.codahale.metrics.Meter;
import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts a listening port's open connections and turns away those beyond its limit as they
 * arrive, before a byte of theirs is read: without it a client could open connections until the
 * node ran out of file descriptors, each held until the port's idle timeout. Every refusal is
 * marked on a meter; the log says once when refusing starts and once when it ends, so a flood of
 * connections cannot flood the log. The protocol port and the HTTP port each have one.
 */
public final class ConnectionCap {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionCap.class);

    private final String port;
    private final String setting;
    private final int max;
    private final Meter refused;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong refusedSinceLog = new AtomicLong();

    /**
     * @param port the port's name in log lines ("HTTP port")
     * @param setting the config field that sets {@code max}, named in the log line
     */
    public ConnectionCap(String port, String setting, int max, Meter refused) {
        this.port = port;
        this.setting = setting;
        this.max = max;
        this.refused = refused;
    }

    /** Whether {@code ch} may stay open; once admitted, it counts until it closes. */
    public boolean admit(Channel ch) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            refused.mark();
            if (refusedSinceLog.getAndIncrement() == 0) {
                LOG.warn("{}: {} connections open, the limit ({}); closing new connections, from {} on, until one closes",
                        port, max, setting, ch.remoteAddress());
            }
            return false;
        }
        long closed = refusedSinceLog.getAndSet(0);
        if (closed > 0) {
            LOG.info("{}: accepting connections again; closed {} while at the limit of {}", port, closed, max);
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        return true;
    }

    /** Connections open now. */
    public int open() {
        return open.get();
    }
}
