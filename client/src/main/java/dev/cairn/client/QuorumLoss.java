package dev.cairn.client;

import dev.cairn.protocol.MessageType;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Turns a quorum failure into what the user can act on: which nodes this client cannot reach and
 * why, how many an operation needs, and what to do. A node's own answer ("metadata quorum
 * unavailable ...") tells what failed from inside the cluster, in its terms; this asks each node
 * once, on the failure path only.
 */
final class QuorumLoss {

    /** How long each node may take to answer the probe: a node that is up answers at once. */
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

    private QuorumLoss() {}

    /**
     * {@code failure} retold with the nodes that do not answer, or {@code failure} itself when enough
     * of them answer (then the cause is not one this client sees).
     */
    static CairnException.QuorumUnavailable explain(Cluster cluster, CairnException.QuorumUnavailable failure, String operation) {
        Map<String, String> unreachable = unreachableNodes(cluster);
        int total = cluster.nodes().size();
        int answering = total - unreachable.size();
        if (unreachable.isEmpty() || (answering >= cluster.writeQuorum() && answering > total / 2)) {
            return failure; // enough nodes answer: what failed is in the failure's own message
        }
        String nodes = unreachable.size() == 1 ? "the node" : "the nodes";
        // Fewer than a majority answering is a catalog without a Raft leader; else the chunks' N_W is what is missed.
        String missed = answering <= total / 2 ? "metadata quorum unavailable" : "write quorum not met";
        return new CairnException.QuorumUnavailable(String.join("; ", unreachable.values()) + ": " + missed + ", "
                + answering + " of " + total + " nodes answer; the " + operation + " needs " + cluster.writeQuorum() + " of "
                + total + " nodes (N_W=" + cluster.writeQuorum() + ") and a Raft majority; start " + nodes
                + " or check --cluster", failure);
    }

    /** By node id, why each node that failed a probe failed it; nodes that answered, even with an error, are left out. */
    private static Map<String, String> unreachableNodes(Cluster cluster) {
        Duration timeout = PROBE_TIMEOUT.compareTo(cluster.config().requestTimeout()) < 0
                ? PROBE_TIMEOUT : cluster.config().requestTimeout();
        List<NodeConnection> nodes = cluster.nodes();
        List<CompletableFuture<String>> probes = new ArrayList<>();
        for (NodeConnection node : nodes) {
            probes.add(node.call(MessageType.CLUSTER_INFO, ByteBuffer.allocate(0), List.of(), timeout).handle((reply, error) ->
                    error == null || Failures.unwrap(error) instanceof NodeConnection.RemoteError ? null
                            : Failures.describe(node, error)));
        }
        Map<String, String> unreachable = new LinkedHashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            String why = probes.get(i).join();
            if (why != null) {
                unreachable.put(nodes.get(i).nodeId(), why);
            }
        }
        return unreachable;
    }
}
