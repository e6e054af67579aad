package dev.cairn.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a client needs to reach a cluster: the Cairn protocol endpoint of at least one node.
 *
 * @param endpoints {@code host:port} of one or more nodes; the client learns the rest from them
 * @param requestTimeout how long one request may take before the client gives up on that node
 */
public record ClientConfig(List<String> endpoints, Duration requestTimeout) {

    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);

    public ClientConfig {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new ConfigException("no cluster given: pass --cluster host:port,... or set CAIRN_CLUSTER");
        }
        for (String e : endpoints) {
            parseEndpoint(e);
        }
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
        int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1) {
            throw new ConfigException("cluster endpoint '" + endpoint + "' is not host:port");
        }
        String host = endpoint.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(endpoint.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException("cluster endpoint '" + endpoint + "' has a port that is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new ConfigException("cluster endpoint '" + endpoint + "' has a port outside 1-65535");
        }
        return new HostPort(host, port);
    }

    /** A parsed endpoint. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }
}
