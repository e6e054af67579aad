package dev.cairn.config;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The whole configuration of one node: who it is, where its data lives, the cluster it belongs to.
 *
 * @param nodeId this node's id; must be one of {@code nodes}
 * @param dataDir the node's data directory (absolute once loaded)
 * @param quorum replication factor and quorum sizes
 * @param nodes every node of the cluster, this one included
 * @param limits named limits
 * @param join true for a node added to a running cluster: on its first start it seeds nothing and
 *     waits until the cluster adds it ({@code cairn admin nodes add}); ignored once it has Raft storage
 * @param http the HTTP port's limits
 * @param auth whether requests must be authenticated, and the cluster secret ({@link AuthConfig})
 * @param tls transport security of both ports and of this node's own connections to its peers
 */
public record NodeConfig(String nodeId, Path dataDir, Quorum quorum, List<NodeAddress> nodes, Limits limits, boolean join,
                         HttpLimits http, AuthConfig auth, TlsConfig tls) {

    public NodeConfig(String nodeId, Path dataDir, Quorum quorum, List<NodeAddress> nodes, Limits limits, boolean join) {
        this(nodeId, dataDir, quorum, nodes, limits, join, HttpLimits.defaults(), AuthConfig.OFF, TlsConfig.OFF);
    }

    public NodeConfig(String nodeId, Path dataDir, Quorum quorum, List<NodeAddress> nodes, Limits limits) {
        this(nodeId, dataDir, quorum, nodes, limits, false);
    }

    public NodeConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(quorum, "quorum");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(auth, "auth");
        tls = tls == null ? TlsConfig.OFF : tls;
        nodes = List.copyOf(nodes);
        if (nodes.isEmpty()) {
            throw new ConfigException("nodes is empty: list every node of the cluster, this one included");
        }
        Set<String> ids = new HashSet<>();
        Set<String> endpoints = new HashSet<>();
        for (NodeAddress node : nodes) {
            if (!ids.add(node.id())) {
                throw new ConfigException("nodes: id '" + node.id() + "' appears twice");
            }
            for (int port : new int[] {node.port(), node.raftPort(), node.httpPort()}) {
                if (!endpoints.add(node.host() + ":" + port)) {
                    throw new ConfigException("nodes: " + node.host() + ":" + port + " is used twice (node " + node.id() + ")");
                }
            }
        }
        if (!ids.contains(nodeId)) {
            throw new ConfigException("nodeId '" + ConfigException.shown(nodeId) + "' is not one of the nodes " + ids);
        }
        if (quorum.replicas() > nodes.size()) {
            throw new ConfigException("replicas (N=" + quorum.replicas() + ") is larger than the number of nodes ("
                    + nodes.size() + "); lower replicas or add nodes");
        }
    }

    /** The same config with other HTTP limits. */
    public NodeConfig withHttp(HttpLimits other) {
        return new NodeConfig(nodeId, dataDir, quorum, nodes, limits, join, other, auth, tls);
    }

    /** The same config with {@code auth}. */
    public NodeConfig withAuth(AuthConfig auth) {
        return new NodeConfig(nodeId, dataDir, quorum, nodes, limits, join, http, auth, tls);
    }

    /** The same node with other transport security. */
    public NodeConfig withTls(TlsConfig other) {
        return new NodeConfig(nodeId, dataDir, quorum, nodes, limits, join, http, auth, other);
    }

    /** This node's own address. */
    public NodeAddress self() {
        return nodes.stream().filter(n -> n.id().equals(nodeId)).findFirst().orElseThrow();
    }
}
