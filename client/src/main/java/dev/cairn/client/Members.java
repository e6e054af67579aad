package dev.cairn.client;

import dev.cairn.protocol.MembershipMessages;
import java.util.List;

/**
 * The membership recorded in the catalog and the peers of the Raft configuration, as one node knows them.
 *
 * @param membershipIndex Raft log index of the membership entry (0: none recorded yet)
 * @param raftPeers ids of the current Raft configuration's peers
 */
public record Members(long membershipIndex, List<Member> members, List<String> raftPeers) {

    public Members {
        members = List.copyOf(members);
        raftPeers = List.copyOf(raftPeers);
    }

    static Members of(MembershipMessages.MemberList list) {
        return new Members(list.membershipIndex(), list.members().stream().map(Member::of).toList(), list.raftPeers());
    }
}
