package dev.cairn.client;

import dev.cairn.protocol.MembershipMessages;

/** One member of the cluster as the catalog records it: where it listens, its zone and its state. */
public record Member(String id, String host, int port, int raftPort, int httpPort, String zone, State state) {

    /** Where a node is in its life in the cluster. */
    public enum State {
        /** A placement target: holds and receives chunks. */
        ACTIVE,
        /** Being removed: still serves its chunks, is no longer a placement target. */
        LEAVING
    }

    public Member {
        zone = zone == null ? "" : zone;
        java.util.Objects.requireNonNull(state, "state");
    }

    /** {@code host:port}, the Cairn protocol endpoint. */
    public String endpoint() {
        return host + ":" + port;
    }

    static Member of(MembershipMessages.Member m) {
        return new Member(m.id(), m.host(), m.port(), m.raftPort(), m.httpPort(), m.zone(), State.valueOf(m.state().name()));
    }

    MembershipMessages.Member toWire() {
        return new MembershipMessages.Member(id, host, port, raftPort, httpPort, zone,
                MembershipMessages.MemberState.valueOf(state.name()));
    }
}
