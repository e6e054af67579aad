package dev.cairn.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a client needs to reach a cluster: the Cairn protocol endpoint of at least one node.
 *
 * @param endpoints {@code host:port} of one or more nodes; the client learns the rest from them
 * @param requestTimeout how long one request may take before the client gives up on that node
 * @param zstdLevel the zstd level chunks are compressed with before they leave the client (3 by
 *     default: on the CRIU corpus level 3 stores 6.74x, level 1 6.65x, level -1 6.17x)
 * @param readHedgeDelay the least time a chunk read waits for a replica before it also asks the
 *     next one in placement order (see {@link #DEFAULT_READ_HEDGE_DELAY}); the reader waits longer
 *     while this client's recent chunk reads were slower than that
 * @param sessionReads false (the default): catalog reads (stat, ls, the root of a get) are
 *     linearizable, through the Raft leader; true: the node the client talks to answers from its
 *     own replica once it has applied the highest index this client has seen (read-your-writes
 *     and monotonic reads, possibly behind other clients' latest writes; docs/consistency.md)
 * @param token the access token ({@code ID.SECRET}) this client presents once per connection, or
 *     null for none (a node with {@code auth.required: false} serves it; docs/security.md)
 * @param tls {@link TlsConfig#OFF}, or the CA the nodes' certificates must be signed by (and, for
 *     a node's own clients, the certificate they present)
 */
public record ClientConfig(List<String> endpoints, Duration requestTimeout, int zstdLevel, Duration readHedgeDelay,
                           boolean sessionReads, String token, TlsConfig tls) {

    /** The environment variable that names the cluster CA's certificate for the CLI: TLS is on when it is set. */
    public static final String TLS_CA_ENV = "CAIRN_TLS_CA";

    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_ZSTD_LEVEL = 3;
    public static final int MIN_ZSTD_LEVEL = -7;
    public static final int MAX_ZSTD_LEVEL = 19;
    /**
     * 20 ms: a batch read of a healthy node on loopback or in one machine room answers in a few ms,
     * so a replica that has not answered in 20 ms is probably stalled (GC pause, busy disk, dead
     * host whose connection has not failed yet), and asking a second one costs one batch at most.
     */
    public static final Duration DEFAULT_READ_HEDGE_DELAY = Duration.ofMillis(20);

    public ClientConfig(List<String> endpoints, Duration requestTimeout) {
        this(endpoints, requestTimeout, DEFAULT_ZSTD_LEVEL, DEFAULT_READ_HEDGE_DELAY);
    }

    public ClientConfig(List<String> endpoints, Duration requestTimeout, int zstdLevel) {
        this(endpoints, requestTimeout, zstdLevel, DEFAULT_READ_HEDGE_DELAY);
    }

    public ClientConfig(List<String> endpoints, Duration requestTimeout, int zstdLevel, Duration readHedgeDelay) {
        this(endpoints, requestTimeout, zstdLevel, readHedgeDelay, false);
    }

    public ClientConfig(List<String> endpoints, Duration requestTimeout, int zstdLevel, Duration readHedgeDelay,
                        boolean sessionReads) {
        this(endpoints, requestTimeout, zstdLevel, readHedgeDelay, sessionReads, null, TlsConfig.OFF);
    }

    public ClientConfig {
        tls = tls == null ? TlsConfig.OFF : tls;
        if (readHedgeDelay == null || readHedgeDelay.isNegative()) {
            throw new ConfigException("read hedge delay " + readHedgeDelay + " is not a duration of zero or more; "
                    + DEFAULT_READ_HEDGE_DELAY.toMillis() + " ms is the default");
        }
        if (zstdLevel < MIN_ZSTD_LEVEL || zstdLevel > MAX_ZSTD_LEVEL) {
            throw new ConfigException("zstd level " + zstdLevel + " is outside " + MIN_ZSTD_LEVEL + ".." + MAX_ZSTD_LEVEL
                    + "; 3 is the default, lower is faster, higher is smaller");
        }
        if (token != null && (token.isBlank() || token.length() > 512 || token.chars().anyMatch(c -> c <= ' ' || c > '~'))) {
            throw new ConfigException("the access token is not one line of printable characters (at most 512); "
                    + "check CAIRN_TOKEN_FILE: it holds what cairn admin token create printed");
        }
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new ConfigException("no cluster given: pass --cluster host:port,... or set CAIRN_CLUSTER");
        }
        for (String e : endpoints) {
            parseEndpoint(e);
        }
    }

    /** The same, compressing at {@code level}. */
    public ClientConfig withZstdLevel(int level) {
        return new ClientConfig(endpoints, requestTimeout, level, readHedgeDelay, sessionReads, token, tls);
    }

    /**
     * The same, with another least hedge delay. Zero leaves the delay to the measured latency of
     * recent reads alone; a delay as long as the request timeout turns hedging off (a replica is
     * then asked only when the one before it failed).
     */
    public ClientConfig withReadHedgeDelay(Duration delay) {
        return new ClientConfig(endpoints, requestTimeout, zstdLevel, delay, sessionReads, token, tls);
    }

    /** The same, with session reads of the catalog on or off (see {@code sessionReads} above). */
    public ClientConfig withSessionReads(boolean on) {
        return new ClientConfig(endpoints, requestTimeout, zstdLevel, readHedgeDelay, on, token, tls);
    }

    /** Never the token itself: configs end up in logs and error messages. */
    @Override
    public String toString() {
        return "ClientConfig[endpoints=" + endpoints + ", requestTimeout=" + requestTimeout + ", zstdLevel=" + zstdLevel
                + ", readHedgeDelay=" + readHedgeDelay + ", sessionReads=" + sessionReads + ", token="
                + (token == null ? "none" : "(set)") + ", tls=" + tls + "]";
    }

    /** The same, presenting {@code token} ({@code ID.SECRET}, or null for none) on every connection. */
    public ClientConfig withToken(String token) {
        return new ClientConfig(endpoints, requestTimeout, zstdLevel, readHedgeDelay, sessionReads, token, tls);
    }

    /** The same, over TLS as {@code other} says (or plain TCP with {@link TlsConfig#OFF}). */
    public ClientConfig withTls(TlsConfig other) {
        return new ClientConfig(endpoints, requestTimeout, zstdLevel, readHedgeDelay, sessionReads, token, other);
    }

    /**
     * The TLS a command-line client takes from its environment: trusting the CA named by
     * {@code $CAIRN_TLS_CA} ({@code caEnv}), or plain TCP when it is unset or empty.
     */
    public static TlsConfig tlsFromEnv(String caEnv) {
        if (caEnv == null || caEnv.isBlank()) {
            return TlsConfig.OFF;
        }
        TlsConfig tls = TlsConfig.client(java.nio.file.Path.of(caEnv));
        if (!java.nio.file.Files.isRegularFile(tls.caCert())) {
            throw new ConfigException(TLS_CA_ENV + " names " + caEnv + ", which is not a file; set it to the cluster CA's"
                    + " certificate (cairn dev --tls prints it) or unset it for a cluster without TLS");
        }
        return tls;
    }

    /** Parses {@code host:port,host:port}. */
    public static ClientConfig parse(String cluster) {
        if (cluster == null || cluster.isBlank()) {
            throw new ConfigException("no cluster given: pass --cluster host:port,... or set CAIRN_CLUSTER");
        }
        List<String> endpoints = new ArrayList<>();
        for (String part : cluster.split(",")) {
            if (!part.isBlank()) {
                endpoints.add(part.trim());
            }
        }
        return new ClientConfig(endpoints, DEFAULT_REQUEST_TIMEOUT);
    }

    /** Splits {@code host:port} into its host and port, refusing anything else. */
    public static HostPort parseEndpoint(String endpoint) {
        String shown = ConfigException.shown(endpoint);
        int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1) {
            throw new ConfigException("cluster endpoint '" + shown + "' is not host:port");
        }
        String host = endpoint.substring(0, colon);
        if (!NodeAddress.isValidHost(host)) {
            throw new ConfigException("cluster endpoint '" + shown + "' has a host that is not a host name or IP address");
        }
        String digits = endpoint.substring(colon + 1);
        // Digits only: Integer.parseInt would also take "+7400".
        if (!digits.matches("-?[0-9]{1,10}")) {
            throw new ConfigException("cluster endpoint '" + shown + "' has a port that is not a number");
        }
        long port = Long.parseLong(digits);
        if (port < 1 || port > 65535) {
            throw new ConfigException("cluster endpoint '" + shown + "' has a port outside 1-65535");
        }
        return new HostPort(host, (int) port);
    }

    /** A parsed endpoint. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }
}
