package dev.cairn.server.http;

import com.codahale.metrics.Meter;
import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the HTTP port's open connections and turns away those beyond {@code http.maxConnections}
 * as they arrive, before a byte of theirs is read: without it a client could open connections
 * until the node ran out of file descriptors, each held until {@code http.idleSeconds}. Every
 * refusal is marked on a meter; the log says once when refusing starts and once when it ends, so a
 * flood of connections cannot flood the log.
 */
final class HttpConnectionCap {

    private static final Logger LOG = LoggerFactory.getLogger(HttpConnectionCap.class);

    private final int max;
    private final Meter refused;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong refusedSinceLog = new AtomicLong();

    HttpConnectionCap(int max, Meter refused) {
        this.max = max;
        this.refused = refused;
    }

    /** Whether {@code ch} may stay open; once admitted, it counts until it closes. */
    boolean admit(Channel ch) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            refused.mark();
            if (refusedSinceLog.getAndIncrement() == 0) {
                LOG.warn("HTTP port: {} connections open, the limit (http.maxConnections); closing new connections,"
                        + " from {} on, until one closes", max, ch.remoteAddress());
            }
            return false;
        }
        long closed = refusedSinceLog.getAndSet(0);
        if (closed > 0) {
            LOG.info("HTTP port: accepting connections again; closed {} while at the limit of {}", closed, max);
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        return true;
    }

    int open() {
        return open.get();
    }
}
