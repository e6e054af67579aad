package dev.cairn.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The headers of the cluster and node frames (CLUSTER_INFO, NODE_STATUS), the one-number answer
 * and the ERROR answer. The chunk frames are in {@link ChunkMessages}, the catalog frames in
 * {@link ImageMessages}, GC, membership and replication in their own classes.
 */
public final class Messages {

    private Messages() {}

    /**
     * One node as clients see it: where it listens, its zone ("" for none) and whether it is an
     * active placement target or leaving the cluster (still readable, no longer a target).
     */
    public record Peer(String id, String host, int port, int httpPort, String zone, MembershipMessages.MemberState state) {
        public Peer {
            zone = zone == null ? "" : zone;
            java.util.Objects.requireNonNull(state, "state");
        }

        public Peer(String id, String host, int port, int httpPort) {
            this(id, host, port, httpPort, "", MembershipMessages.MemberState.ACTIVE);
        }

        void write(WireWriter w) {
            w.string(id).string(host).i32(port).i32(httpPort);
        }

        static Peer read(WireReader r) {
            return new Peer(r.string("peer id"), r.string("peer host"), r.i32("peer port"), r.i32("peer http port"));
        }

        public String endpoint() {
            return host + ":" + port;
        }

        public boolean active() {
            return state == MembershipMessages.MemberState.ACTIVE;
        }
    }

    /**
     * CLUSTER_INFO response: the answering node, the quorums and every member node.
     * {@code membershipIndex} is the Raft log index of the membership the node answered from (0
     * when its catalog holds none yet and it answered from its config).
     *
     * <p>Zones, states and the membership index travel in a trailing section after the node
     * list, so that an answer from a node built before membership changes still decodes (as
     * zone-less, all active, index 0).
     */
    public record ClusterInfo(String nodeId, int replicas, int writeQuorum, int readQuorum, List<Peer> nodes,
                              long membershipIndex) {
        public ClusterInfo {
            nodes = List.copyOf(nodes);
        }

        public ClusterInfo(String nodeId, int replicas, int writeQuorum, int readQuorum, List<Peer> nodes) {
            this(nodeId, replicas, writeQuorum, readQuorum, nodes, 0);
        }

        /** The nodes that are placement targets. */
        public List<Peer> activeNodes() {
            return nodes.stream().filter(Peer::active).toList();
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter().string(nodeId).i32(replicas).i32(writeQuorum).i32(readQuorum).i32(nodes.size());
            nodes.forEach(p -> p.write(w));
            w.u8(MEMBERSHIP_SECTION).i64(membershipIndex);
            nodes.forEach(p -> w.string(p.zone()).u8(p.state().ordinal()));
            return w.toBuffer();
        }

        public static ClusterInfo decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            String nodeId = r.string("node id");
            int n = r.i32("replicas");
            int wq = r.i32("write quorum");
            int rq = r.i32("read quorum");
            int count = r.count("nodes", 12);
            List<Peer> nodes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                nodes.add(Peer.read(r));
            }
            long membershipIndex = 0;
            if (r.remaining() > 0) {
                int section = r.u8("cluster info section");
                if (section != MEMBERSHIP_SECTION) {
                    throw new ProtocolException("unknown cluster info section " + section);
                }
                membershipIndex = r.i64("membership index");
                for (int i = 0; i < count; i++) {
                    Peer p = nodes.get(i);
                    nodes.set(i, new Peer(p.id(), p.host(), p.port(), p.httpPort(), r.string("peer zone"),
                            MembershipMessages.MemberState.of(r.u8("peer state"))));
                }
            }
            r.end("cluster info");
            return new ClusterInfo(nodeId, n, wq, rq, nodes, membershipIndex);
        }
    }

    private static final int MEMBERSHIP_SECTION = 1;

    /** A response that is one number (a commit index). */
    public static ByteBuffer encodeLong(long value) {
        return new WireWriter(8).i64(value).toBuffer();
    }

    public static long decodeLong(ByteBuffer header) {
        WireReader r = new WireReader(header);
        long value = r.i64("number");
        r.end("number");
        return value;
    }

    /** NODE_STATUS response. */
    public record NodeStatus(String nodeId, String role, long term, String leaderId, long commitIndex,
                             long appliedIndex, long chunkCount, long storedBytes) {
        public ByteBuffer encode() {
            return new WireWriter(128).string(nodeId).string(role).i64(term).string(leaderId == null ? "" : leaderId)
                    .i64(commitIndex).i64(appliedIndex).i64(chunkCount).i64(storedBytes).toBuffer();
        }

        public static NodeStatus decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            NodeStatus s = new NodeStatus(r.string("node id"), r.string("role"), r.i64("term"), emptyToNull(r.string("leader")),
                    r.i64("commit index"), r.i64("applied index"), r.i64("chunk count"), r.i64("stored bytes"));
            r.end("node status");
            return s;
        }
    }

    /** ERROR response. */
    public record Error(ErrorCode code, String message) {
        public ByteBuffer encode() {
            String m = message == null ? "" : message;
            if (m.length() > 4000) {
                m = m.substring(0, 4000);
            }
            return new WireWriter(16 + m.length()).u8(code.code()).string(m).toBuffer();
        }

        public static Error decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            Error e = new Error(ErrorCode.fromCode(r.u8("error code")), r.string("error message"));
            r.end("error");
            return e;
        }
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }
}
