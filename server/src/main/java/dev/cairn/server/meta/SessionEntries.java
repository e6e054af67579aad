package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogStore.Session;
import dev.cairn.server.meta.CatalogSessionMessages.CloseSession;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import dev.cairn.server.meta.CatalogSessionMessages.OpenSession;
import dev.cairn.server.meta.CatalogSessionMessages.RenewSession;
import java.io.IOException;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/**
 * Applies the upload session entries: open, renew, close, and a commit in a session.
 *
 * <p>{@code now} is the entry's log time (leader-stamped, never decreasing): a lease is judged by
 * it, so every replica reaches the same verdict.
 */
final class SessionEntries {

    private SessionEntries() {}

    static Reply commit(CommitInSession c, long now, Applying at) throws IOException, RocksDBException {
        // Durability contract 4: a session that GC_MAY_SWEEP stopped waiting for (expired) or
        // that was closed may hold chunks the epoch did not mark; its commit must not happen.
        Optional<Session> session = at.store().session(c.sessionId());
        if (session.isEmpty() || session.get().leaseExpiryMillis() <= now) {
            return Reply.refused(Status.SESSION_EXPIRED, "upload session " + c.sessionId() + " is "
                    + (session.isEmpty() ? "not open" : "expired (" + (now - session.get().leaseExpiryMillis())
                    + " ms of log time ago)") + "; image " + c.name() + " was not committed, put it again");
        }
        Reply reply = ImageEntries.commit(c.name(), c.root(), c.parent(), at);
        if (c.closesSession() && reply.status() == Status.OK) {
            at.batch().deleteSession(c.sessionId());
        }
        return reply;
    }

    static Reply open(OpenSession o, long now, Applying at) throws IOException, RocksDBException {
        Optional<Session> existing = at.store().session(o.sessionId());
        if (existing.isPresent()) {
            Session s = existing.get();
            if (!s.clientId().equals(o.clientId())) {
                return Reply.refused(Status.EXISTS, "upload session " + o.sessionId() + " belongs to another client");
            }
            // An open applied again after the lease ended (a retry of one whose answer was lost,
            // applied late) must not revive the session, for the reason a renewal must not.
            if (s.leaseExpiryMillis() <= now) {
                return Reply.refused(Status.SESSION_EXPIRED, "upload session " + o.sessionId() + " is expired ("
                        + (now - s.leaseExpiryMillis()) + " ms of log time ago) and cannot be opened again:"
                        + " GC may have swept what it uploaded; put the image again");
            }
            // Reopening renews the lease; the session keeps its first index.
            at.batch().putSession(new Session(s.sessionId(), s.clientId(), s.openedAtIndex(),
                    Math.max(s.leaseExpiryMillis(), now + o.leaseMillis())));
            return Reply.ok(s.openedAtIndex());
        }
        at.batch().putSession(new Session(o.sessionId(), o.clientId(), at.index(), now + o.leaseMillis()));
        return Reply.ok(at.index());
    }

    static Reply renew(RenewSession r, long now, Applying at) throws IOException, RocksDBException {
        // Only a session that is open and leased at this entry's log time is extended. Never
        // re-create or revive one: a GC_MAY_SWEEP that stopped waiting for it (it had expired)
        // may have swept chunks it uploaded, and an epoch that began after it was dropped
        // would not wait for it again.
        Optional<Session> session = at.store().session(r.sessionId());
        if (session.isEmpty() || session.get().leaseExpiryMillis() <= now) {
            return Reply.refused(Status.SESSION_EXPIRED, "upload session " + r.sessionId() + " is "
                    + (session.isEmpty() ? "not open" : "expired (" + (now - session.get().leaseExpiryMillis())
                    + " ms of log time ago)") + " and cannot be renewed: GC may have swept what it uploaded");
        }
        Session s = session.get();
        // Never shortens a lease: a renewal with a shorter lease, or one applied late, keeps the longer expiry.
        at.batch().putSession(new Session(s.sessionId(), s.clientId(), s.openedAtIndex(),
                Math.max(s.leaseExpiryMillis(), now + r.leaseMillis())));
        return Reply.ok(at.index());
    }

    static Reply close(CloseSession c, Applying at) throws IOException, RocksDBException {
        if (at.store().session(c.sessionId()).isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, "upload session " + c.sessionId() + " is not open");
        }
        at.batch().deleteSession(c.sessionId());
        return Reply.ok(at.index());
    }
}
