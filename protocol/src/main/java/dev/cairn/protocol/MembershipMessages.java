package dev.cairn.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Header messages of the MEMBERS, ADD_NODE and REMOVE_NODE requests and their answers. */
public final class MembershipMessages {

    private MembershipMessages() {}

    /** Where a node is in its life in the cluster. Codes are never reused. */
    public enum MemberState {
        /** A placement target: holds and receives chunks. */
        ACTIVE,
        /** Being removed: still serves its chunks, is no longer a placement target. */
        LEAVING;

        public static MemberState of(int code) {
            if (code < 0 || code >= values().length) {
                throw new ProtocolException("unknown member state " + code);
            }
            return values()[code];
        }
    }

    /** One member of the cluster as the catalog records it. */
    public record Member(String id, String host, int port, int raftPort, int httpPort, String zone, MemberState state) {
        public Member {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(host, "host");
            zone = zone == null ? "" : zone;
            Objects.requireNonNull(state, "state");
        }

        public String endpoint() {
            return host + ":" + port;
        }

        void write(WireWriter w) {
            w.string(id).string(host).i32(port).i32(raftPort).i32(httpPort).string(zone).u8(state.ordinal());
        }

        static Member read(WireReader r) {
            return new Member(r.string("member id"), r.string("member host"), r.i32("member port"),
                    r.i32("member raft port"), r.i32("member http port"), r.string("member zone"),
                    MemberState.of(r.u8("member state")));
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(96);
            write(w);
            return w.toBuffer();
        }

        public static Member decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            Member m = read(r);
            r.end("member");
            return m;
        }
    }

    /**
     * MEMBERS response: the catalog's membership at log index {@code membershipIndex} (0 when not
     * recorded yet) and the ids of the current Raft configuration's peers.
     */
    public record MemberList(long membershipIndex, List<Member> members, List<String> raftPeers) {
        public MemberList {
            members = List.copyOf(members);
            raftPeers = List.copyOf(raftPeers);
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(64 + members.size() * 96).i64(membershipIndex).i32(members.size());
            members.forEach(m -> m.write(w));
            w.i32(raftPeers.size());
            raftPeers.forEach(w::string);
            return w.toBuffer();
        }

        public static MemberList decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            long index = r.i64("membership index");
            int count = r.count("members", 20);
            List<Member> members = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                members.add(Member.read(r));
            }
            int peers = r.count("raft peers", 2);
            List<String> raftPeers = new ArrayList<>(peers);
            for (int i = 0; i < peers; i++) {
                raftPeers.add(r.string("raft peer"));
            }
            r.end("member list");
            return new MemberList(index, members, raftPeers);
        }
    }

    /** The two steps of a removal; the operator's tool re-replicates and runs a census between them. */
    public enum RemovePhase {
        /** Mark the node leaving: no longer a placement target, its chunks are copied elsewhere by repair. */
        MARK_LEAVING,
        /** Drop a leaving node from the Raft configuration and the catalog. */
        DROP
    }

    /** REMOVE_NODE request. */
    public record RemoveNode(String id, RemovePhase phase) {
        public ByteBuffer encode() {
            return new WireWriter(48).string(id).u8(phase.ordinal()).toBuffer();
        }

        public static RemoveNode decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            String id = r.string("node id");
            int phase = r.u8("remove phase");
            r.end("remove request");
            if (phase >= RemovePhase.values().length) {
                throw new ProtocolException("unknown remove phase " + phase);
            }
            return new RemoveNode(id, RemovePhase.values()[phase]);
        }
    }
}
