package dev.cairn.config;

import java.util.regex.Pattern;

/**
 * Where one node of the cluster listens: its Cairn protocol port, its Raft port and its HTTP port;
 * and the zone (failure domain: rack, room, availability zone) it stands in, "" when none is set.
 */
public record NodeAddress(String id, String host, int port, int raftPort, int httpPort, String zone) {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,31}");
    /**
     * A DNS name (at most 253 characters, RFC 1035), an IPv4 address or an IPv6 one, bracketed or
     * not; nothing a URL or a shell would read differently (spaces, '/', '@', control characters).
     */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:\\[\\]-]{1,253}");

    /** The zone of a node that has none; nodes without a zone count as one zone in placement. */
    public static final String NO_ZONE = "";

    public NodeAddress(String id, String host, int port, int raftPort, int httpPort) {
        this(id, host, port, raftPort, httpPort, NO_ZONE);
    }

    public NodeAddress {
        if (id == null || !ID.matcher(id).matches()) {
            throw new ConfigException("node id '" + ConfigException.shown(id) + "' is invalid: use 1-32 letters, digits, '_' or '-'");
        }
        zone = zone == null ? NO_ZONE : zone;
        if (!zone.isEmpty() && !ID.matcher(zone).matches()) {
            throw new ConfigException("node " + id + ": zone '" + ConfigException.shown(zone)
                    + "' is invalid: use 1-32 letters, digits, '_' or '-'");
        }
        if (host == null || host.isBlank()) {
            throw new ConfigException("node " + id + ": host is missing");
        }
        checkPort(id, "port", port);
        checkPort(id, "raftPort", raftPort);
        checkPort(id, "httpPort", httpPort);
    }

    /**
     * True for a DNS name, an IPv4 or an IPv6 address as the config file and {@code --cluster} take
     * them. Not checked by the constructor: members already in a cluster's Raft catalog are decoded
     * through it, and one added before this rule must not stop a replica from applying its log.
     */
    public static boolean isValidHost(String host) {
        return host != null && HOST.matcher(host).matches();
    }

    /** Refuses a host that {@link #isValidHost} does not take, naming the node. */
    static void checkHost(String id, String host) {
        if (!isValidHost(host)) {
            throw new ConfigException("node " + id + ": host '" + ConfigException.shown(host) + "' is not a host name or"
                    + " IP address: use at most 253 letters, digits, '.', '-', ':' (IPv6 in brackets or not)");
        }
    }

    private static void checkPort(String id, String field, int value) {
        if (value < 1 || value > 65535) {
            throw new ConfigException("node " + id + ": " + field + " must be 1-65535, got " + value);
        }
    }

    /** {@code host:port} of the Cairn protocol endpoint, the form clients are given. */
    public String endpoint() {
        return host + ":" + port;
    }
}
