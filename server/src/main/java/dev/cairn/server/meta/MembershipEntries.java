package dev.cairn.server.meta;

import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogMemberMessages.AddMember;
import dev.cairn.server.meta.CatalogMemberMessages.MarkLeaving;
import dev.cairn.server.meta.CatalogMemberMessages.RemoveMember;
import dev.cairn.server.meta.CatalogMemberMessages.SeedMembers;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/** Applies the membership entries: seed, add, mark leaving, remove. */
final class MembershipEntries {

    private MembershipEntries() {}

    static Reply seed(SeedMembers seed, Applying at) throws IOException, RocksDBException {
        if (!at.store().members().isEmpty()) {
            return Reply.refused(Status.EXISTS, "the membership is already recorded (at index "
                    + at.store().membershipIndex() + "); cairn admin nodes changes it");
        }
        for (Member m : seed.members()) {
            at.batch().putMember(m, at.index());
        }
        return Reply.ok(at.index());
    }

    static Reply add(AddMember request, Applying at) throws IOException, RocksDBException {
        Member add = request.member();
        List<Member> members = at.store().members();
        if (members.isEmpty()) {
            return Reply.refused(Status.INVALID, "the membership is not recorded yet (the cluster is still starting); retry");
        }
        for (Member m : members) {
            if (m.id().equals(add.id())) {
                Member asActive = new Member(m.id(), m.host(), m.port(), m.raftPort(), m.httpPort(), m.zone(), MemberState.ACTIVE);
                if (asActive.equals(add) && m.state() == MemberState.ACTIVE) {
                    return Reply.ok(at.store().membershipIndex()); // a retry of the same add
                }
                return Reply.refused(Status.EXISTS, "node " + add.id() + " is already a member (" + m.endpoint() + ", "
                        + m.state() + "); choose another id, or remove it first");
            }
            for (int port : new int[] {add.port(), add.raftPort(), add.httpPort()}) {
                if (m.host().equals(add.host()) && (port == m.port() || port == m.raftPort() || port == m.httpPort())) {
                    return Reply.refused(Status.INVALID, add.host() + ":" + port + " is already used by node " + m.id());
                }
            }
        }
        at.batch().putMember(add, at.index());
        return Reply.ok(at.index());
    }

    static Reply markLeaving(MarkLeaving request, Applying at) throws IOException, RocksDBException {
        List<Member> members = at.store().members();
        Optional<Member> leaving = members.stream().filter(m -> m.id().equals(request.id())).findFirst();
        if (leaving.isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, "node " + request.id() + " is not a member; cairn admin nodes lists them");
        }
        if (leaving.get().state() == MemberState.LEAVING) {
            return Reply.ok(at.store().membershipIndex()); // already leaving: a retry, or a removal resumed
        }
        long remaining = members.stream().filter(m -> m.state() == MemberState.ACTIVE && !m.id().equals(request.id())).count();
        if (remaining < request.minActive()) {
            return Reply.refused(Status.INVALID, "removing node " + request.id() + " would leave " + remaining
                    + " active nodes, fewer than the " + request.minActive() + " that N=" + request.minActive()
                    + " replicas need; add a node first (cairn admin nodes replace " + request.id() + " --id NEW ...)");
        }
        Member m = leaving.get();
        at.batch().putMember(new Member(m.id(), m.host(), m.port(), m.raftPort(), m.httpPort(), m.zone(), MemberState.LEAVING),
                at.index());
        return Reply.ok(at.index());
    }

    static Reply remove(RemoveMember r, Applying at) throws IOException, RocksDBException {
        Optional<Member> member = at.store().members().stream().filter(m -> m.id().equals(r.id())).findFirst();
        if (member.isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, "node " + r.id() + " is not a member");
        }
        if (member.get().state() != MemberState.LEAVING) {
            return Reply.refused(Status.INVALID, "node " + r.id() + " is " + member.get().state()
                    + "; it must be marked leaving and its chunks re-replicated first (cairn admin nodes remove)");
        }
        at.batch().deleteMember(r.id(), at.index());
        return Reply.ok(at.index());
    }
}
