package dev.cairn.config;

import java.time.Duration;

/**
 * Named limits of a node's HTTP port: how long and how slowly one client may hold a transfer
 * worker, how many workers there are, and how many connections may be open; and whether its
 * monitoring endpoints need a token. Each limit exists
 * because a client that stalls (or trickles on purpose, or opens connections it never uses) would
 * otherwise keep a worker, and with it a put's session, or the node's sockets, forever.
 *
 * @param requestDeadline the longest a request may take from its first byte to the end of its
 *     answer, the node's own work (writing a received body to the cluster) not counted
 * @param minBytesPerSecond the slowest a client may send a request body or read an answer's body,
 *     measured over {@code rateWindow} of the time the node waits on the client; 0 turns it off
 * @param rateWindow how long a client may go below {@code minBytesPerSecond} before it is cut off
 * @param writeIdle the longest an answer may wait on a client that reads none of it
 * @param idle the longest a connection may stay open before its request head has arrived
 * @param maxConcurrentTransfers image transfers run at once; the next one is told to retry (503)
 * @param maxConnections HTTP connections open at once; one more is closed as it arrives, unread
 * @param publicMonitoring true: {@code /metrics} and {@code /v1/admin/health} are served without a
 *     token even when {@code auth.required}; false: they need a token, of any role
 */
public record HttpLimits(Duration requestDeadline, long minBytesPerSecond, Duration rateWindow, Duration writeIdle,
                         Duration idle, int maxConcurrentTransfers, int maxConnections, boolean publicMonitoring) {

    /** An hour moves a 100 GiB image at 30 MiB/s; larger images over slower links need more. */
    public static final Duration DEFAULT_REQUEST_DEADLINE = Duration.ofHours(1);
    /** Slower than an old modem for a whole window: stalled or hostile, not a checkpoint agent. */
    public static final long DEFAULT_MIN_BYTES_PER_SECOND = 64 * 1024;
    /** Long enough to ride out TCP retransmission back-off and a client's GC pause. */
    public static final Duration DEFAULT_RATE_WINDOW = Duration.ofSeconds(30);
    /** A client that reads nothing of an answer for a minute has stopped reading. */
    public static final Duration DEFAULT_WRITE_IDLE = Duration.ofSeconds(60);
    /** A client that opens a connection and sends no request head for two minutes has none to send. */
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(120);
    /** Each transfer holds a worker and up to 8 MiB of body; 8 keep a node's memory and disk shared. */
    public static final int DEFAULT_MAX_CONCURRENT_TRANSFERS = 8;
    /**
     * 256 connections, as the protocol port's {@code limits.maxConnections}: a checkpoint agent or
     * a monitor holds one at a time (one request per connection), so this serves a few hundred
     * hosts at once, while a client that opens thousands and sends nothing holds 256 sockets at most.
     */
    public static final int DEFAULT_MAX_CONNECTIONS = 256;
    /** The largest {@code maxConnections}: each is a socket and a file descriptor of the node. */
    public static final int MAX_CONNECTIONS = 65_536;
    /**
     * Monitoring is public by default: metrics and health carry no image names and no secrets, and
     * most monitoring systems scrape without credentials; a node that wants them private says so.
     */
    public static final boolean DEFAULT_PUBLIC_MONITORING = true;

    /** The transfer limits given, the connection cap and monitoring access at their defaults. */
    public HttpLimits(Duration requestDeadline, long minBytesPerSecond, Duration rateWindow, Duration writeIdle,
                      Duration idle, int maxConcurrentTransfers) {
        this(requestDeadline, minBytesPerSecond, rateWindow, writeIdle, idle, maxConcurrentTransfers, DEFAULT_MAX_CONNECTIONS,
                DEFAULT_PUBLIC_MONITORING);
    }

    public HttpLimits {
        positive("http.requestDeadlineSeconds", requestDeadline);
        positive("http.rateWindowSeconds", rateWindow);
        positive("http.writeIdleSeconds", writeIdle);
        positive("http.idleSeconds", idle);
        if (minBytesPerSecond < 0) {
            throw new ConfigException("http.minBytesPerSecond must be 0 (off) or more, got " + minBytesPerSecond);
        }
        if (maxConcurrentTransfers < 1 || maxConcurrentTransfers > 1024) {
            throw new ConfigException("http.maxConcurrentTransfers must be 1 to 1024 (each is a thread), got "
                    + maxConcurrentTransfers);
        }
        if (maxConnections < 1 || maxConnections > MAX_CONNECTIONS) {
            throw new ConfigException("http.maxConnections must be 1 to " + MAX_CONNECTIONS + ", got " + maxConnections);
        }
    }

    public static HttpLimits defaults() {
        return new HttpLimits(DEFAULT_REQUEST_DEADLINE, DEFAULT_MIN_BYTES_PER_SECOND, DEFAULT_RATE_WINDOW,
                DEFAULT_WRITE_IDLE, DEFAULT_IDLE, DEFAULT_MAX_CONCURRENT_TRANSFERS, DEFAULT_MAX_CONNECTIONS,
                DEFAULT_PUBLIC_MONITORING);
    }

    /** The same limits with another connection cap. */
    public HttpLimits withMaxConnections(int max) {
        return new HttpLimits(requestDeadline, minBytesPerSecond, rateWindow, writeIdle, idle, maxConcurrentTransfers, max,
                publicMonitoring);
    }

    /** The same limits with monitoring public or not. */
    public HttpLimits withPublicMonitoring(boolean open) {
        return new HttpLimits(requestDeadline, minBytesPerSecond, rateWindow, writeIdle, idle, maxConcurrentTransfers,
                maxConnections, open);
    }

    private static void positive(String field, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigException(field + " must be at least 1 second, got " + (d == null ? "nothing" : d.toSeconds()));
        }
    }

    /** The {@code http} section as written in a node's YAML file, in whole seconds; a missing field takes its default. */
    record File(Long requestDeadlineSeconds, Long minBytesPerSecond, Long rateWindowSeconds, Long writeIdleSeconds,
                Long idleSeconds, Integer maxConcurrentTransfers, Integer maxConnections, Boolean publicMonitoring) {

        static HttpLimits toLimits(File f) {
            HttpLimits d = defaults();
            if (f == null) {
                return d;
            }
            return new HttpLimits(seconds(f.requestDeadlineSeconds, d.requestDeadline()),
                    f.minBytesPerSecond == null ? d.minBytesPerSecond() : f.minBytesPerSecond,
                    seconds(f.rateWindowSeconds, d.rateWindow()), seconds(f.writeIdleSeconds, d.writeIdle()),
                    seconds(f.idleSeconds, d.idle()),
                    f.maxConcurrentTransfers == null ? d.maxConcurrentTransfers() : f.maxConcurrentTransfers,
                    f.maxConnections == null ? d.maxConnections() : f.maxConnections,
                    f.publicMonitoring == null ? d.publicMonitoring() : f.publicMonitoring);
        }

        static File of(HttpLimits l) {
            return new File(l.requestDeadline().toSeconds(), l.minBytesPerSecond(), l.rateWindow().toSeconds(),
                    l.writeIdle().toSeconds(), l.idle().toSeconds(), l.maxConcurrentTransfers(), l.maxConnections(),
                    l.publicMonitoring());
        }

        private static Duration seconds(Long value, Duration fallback) {
            return value == null ? fallback : Duration.ofSeconds(value);
        }
    }
}
