package dev.cairn.server.meta;

import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import java.util.List;
import java.util.Optional;

/**
 * The cluster's members as one catalog replica has applied them, and the log index of the last
 * change ({@code index} 0 and no members before the membership is seeded).
 */
public record Membership(long index, List<Member> members) {

    public Membership {
        members = List.copyOf(members);
    }

    public boolean isSeeded() {
        return !members.isEmpty();
    }

    /** The placement targets. */
    public List<Member> active() {
        return members.stream().filter(m -> m.state() == MemberState.ACTIVE).toList();
    }

    public Optional<Member> member(String id) {
        return members.stream().filter(m -> m.id().equals(id)).findFirst();
    }
}
