package dev.cairn.client;

import dev.cairn.protocol.Messages;
import java.util.List;

/**
 * The cluster's nodes and quorums as the contacted node reported them.
 *
 * @param nodeId the node that answered
 * @param membershipIndex Raft log index of the membership it answered from (0: from its config)
 */
public record ClusterInfo(String nodeId, int replicas, int writeQuorum, int readQuorum, List<Node> nodes,
                          long membershipIndex) {

    public ClusterInfo {
        nodes = List.copyOf(nodes);
    }

    /** One member node: where its Cairn protocol and HTTP ports are, its zone and state. */
    public record Node(String id, String host, int port, int httpPort, String zone, Member.State state) {
        public String endpoint() {
            return host + ":" + port;
        }

        /** Whether it is a placement target. */
        public boolean active() {
            return state == Member.State.ACTIVE;
        }
    }

    /** The nodes that are placement targets. */
    public List<Node> activeNodes() {
        return nodes.stream().filter(Node::active).toList();
    }

    static ClusterInfo of(Messages.ClusterInfo info) {
        return new ClusterInfo(info.nodeId(), info.replicas(), info.writeQuorum(), info.readQuorum(), info.nodes().stream()
                .map(p -> new Node(p.id(), p.host(), p.port(), p.httpPort(), p.zone(), Member.State.valueOf(p.state().name())))
                .toList(), info.membershipIndex());
    }
}
