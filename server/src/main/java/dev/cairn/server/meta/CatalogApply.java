package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Stamped;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogStore.RecordedCall;
import dev.cairn.server.meta.CatalogGcMessages.BeginGcEpoch;
import dev.cairn.server.meta.CatalogGcMessages.GcMaySweep;
import dev.cairn.server.meta.CatalogImageMessages.CommitImage;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import dev.cairn.server.meta.CatalogMemberMessages.AddMember;
import dev.cairn.server.meta.CatalogMemberMessages.MarkLeaving;
import dev.cairn.server.meta.CatalogMemberMessages.RemoveMember;
import dev.cairn.server.meta.CatalogMemberMessages.SeedMembers;
import dev.cairn.server.meta.CatalogSessionMessages.CloseSession;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import dev.cairn.server.meta.CatalogSessionMessages.OpenSession;
import dev.cairn.server.meta.CatalogSessionMessages.RenewSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/**
 * Applies one decoded catalog log entry: picks the handler of the entry's type, answers a
 * repeated client call with its recorded reply, and advances the log time of stamped entries.
 *
 * <p>Deterministic: the result depends only on the catalog and the entry. Time comes from the
 * leader's stamp in the entry (see {@link Stamped}), never from a clock.
 */
final class CatalogApply {

    /**
     * How many recorded calls one apply may forget. Each call records one, so a small number
     * drains any backlog while keeping the extra work per apply bounded.
     */
    private static final int MAX_CALLS_EXPIRED_PER_APPLY = 16;

    /** A call's reply is kept until the log is this many entries past it; see {@link MetaService.Tuning}. */
    private final long callWindowEntries;
    // Written only by Ratis' apply thread; read by tests.
    private volatile long callsRepeated;

    CatalogApply(long callWindowEntries) {
        this.callWindowEntries = callWindowEntries;
    }

    /** Calls applied again (a client retry) and answered with their recorded reply. */
    long callsRepeated() {
        return callsRepeated;
    }

    /** The reply of {@code request}; its changes are added to {@code at.batch()}. */
    Reply apply(Request request, Applying at) throws IOException, RocksDBException {
        // Log time: leader-stamped, never decreasing (a new leader's clock may be behind).
        long now = 0;
        if (request instanceof Stamped st) {
            now = Math.max(st.leaderMillis(), at.store().logTimeMillis());
            at.batch().putLogTime(now);
        }
        // One handler per entry type; the switch is exhaustive, so a new type needs a handler.
        return switch (request.type()) {
            case CALL -> call((Call) request, at);
            case COMMIT_IMAGE -> ImageEntries.commitWithoutSession((CommitImage) request, at);
            case DELETE_IMAGE -> ImageEntries.delete((DeleteImage) request, at);
            case COMMIT_IN_SESSION, COMMIT_CLOSING_SESSION -> SessionEntries.commit((CommitInSession) request, now, at);
            case OPEN_SESSION -> SessionEntries.open((OpenSession) request, now, at);
            case RENEW_SESSION -> SessionEntries.renew((RenewSession) request, now, at);
            case CLOSE_SESSION -> SessionEntries.close((CloseSession) request, at);
            case BEGIN_GC_EPOCH -> GcEntries.begin((BeginGcEpoch) request, at);
            case GC_MAY_SWEEP -> GcEntries.maySweep((GcMaySweep) request, now, at);
            case SEED_MEMBERS -> MembershipEntries.seed((SeedMembers) request, at);
            case ADD_MEMBER -> MembershipEntries.add((AddMember) request, at);
            case MARK_LEAVING -> MembershipEntries.markLeaving((MarkLeaving) request, at);
            case REMOVE_MEMBER -> MembershipEntries.remove((RemoveMember) request, at);
            case CREATE_TOKEN -> TokenEntries.create((CatalogTokenMessages.CreateToken) request, now, at);
            case REVOKE_TOKEN -> TokenEntries.revoke((CatalogTokenMessages.RevokeToken) request, at);
            case SET_QUOTA -> QuotaEntries.set((CatalogQuotaMessages.SetQuota) request, at);
            case REMOVE_QUOTA -> QuotaEntries.remove((CatalogQuotaMessages.RemoveQuota) request, at);
            // A query type in the log: startTransaction refuses it, but a log is applied as written.
            case GET_IMAGE, LIST_IMAGES -> Reply.refused(Status.INVALID, request.type() + " is a query, not a write");
            // Decoding unwraps it into the commit it carries, so no request has this type in memory.
            case WITH_PARENT -> Reply.refused(Status.INVALID, "a parent wrapper without its commit");
        };
    }

    /** A client's call: applied once, its reply recorded and returned again for a retry. */
    private Reply call(Call c, Applying at) throws IOException, RocksDBException {
        byte[] key = c.key();
        Optional<RecordedCall> recorded = at.store().call(key);
        // Forget calls older than the window; at most a few per apply so that apply stays short.
        at.store().expireCalls(at.batch(), at.index() - callWindowEntries, MAX_CALLS_EXPIRED_PER_APPLY);
        if (recorded.isPresent()) {
            callsRepeated++;
            return CatalogReplyCodec.decodeReply(ByteBuffer.wrap(recorded.get().reply()));
        }
        Reply reply = apply(c.write(), at);
        at.batch().putCall(key, at.index(), CatalogReplyCodec.encode(reply));
        return reply;
    }
}
