package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Stamped;
import dev.cairn.server.meta.CatalogMessages.Type;
import java.util.Objects;
import java.util.UUID;

/**
 * The upload session requests of the catalog: open, renew, close, and a commit in a session.
 * Their byte format is in {@link CatalogMessages}, with every other request's.
 */
final class CatalogSessionMessages {

    private CatalogSessionMessages() {}

    /** The longest lease an upload session may ask for, when it opens or renews. */
    static final long MAX_LEASE_MILLIS = 24L * 60 * 60 * 1000;

    private static void checkLease(long leaseMillis) {
        if (leaseMillis < 1 || leaseMillis > MAX_LEASE_MILLIS) {
            throw new IllegalArgumentException("session lease " + leaseMillis + " ms is out of range 1.." + MAX_LEASE_MILLIS);
        }
    }

    /** Opens upload session {@code sessionId} of {@code clientId} with a lease of {@code leaseMillis} of log time. */
    record OpenSession(UUID sessionId, UUID clientId, long leaseMillis, long leaderMillis) implements Stamped {
        OpenSession {
            Objects.requireNonNull(sessionId, "sessionId");
            Objects.requireNonNull(clientId, "clientId");
            checkLease(leaseMillis);
        }

        @Override
        public Type type() {
            return Type.OPEN_SESSION;
        }

        @Override
        public OpenSession stamped(long millis) {
            return new OpenSession(sessionId, clientId, leaseMillis, millis);
        }
    }

    /**
     * Extends the lease of upload session {@code sessionId} to {@code leaseMillis} past the
     * entry's log time. Refused unless the session is open and still leased at that time: a
     * GC epoch that stopped waiting for an expired session must never see it come back.
     */
    record RenewSession(UUID sessionId, long leaseMillis, long leaderMillis) implements Stamped {
        RenewSession {
            Objects.requireNonNull(sessionId, "sessionId");
            checkLease(leaseMillis);
        }

        @Override
        public Type type() {
            return Type.RENEW_SESSION;
        }

        @Override
        public RenewSession stamped(long millis) {
            return new RenewSession(sessionId, leaseMillis, millis);
        }
    }

    record CloseSession(UUID sessionId) implements Request {
        CloseSession {
            Objects.requireNonNull(sessionId, "sessionId");
        }

        @Override
        public Type type() {
            return Type.CLOSE_SESSION;
        }
    }

    /**
     * Commits an image whose chunks were uploaded in session {@code sessionId}. Stamped, so that
     * apply judges the lease by log time: a session that GC stopped waiting for cannot commit.
     * With {@code closesSession} (type COMMIT_CLOSING_SESSION) a commit that succeeds also ends
     * the session. {@code parent} is the image's lineage (null for none).
     */
    record CommitInSession(ImageName name, ImageRoot root, UUID sessionId, long leaderMillis, boolean closesSession,
                           ImageName parent) implements Stamped {
        CommitInSession {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(root, "root");
            Objects.requireNonNull(sessionId, "sessionId");
        }

        CommitInSession(ImageName name, ImageRoot root, UUID sessionId, long leaderMillis, boolean closesSession) {
            this(name, root, sessionId, leaderMillis, closesSession, null);
        }

        @Override
        public Type type() {
            return closesSession ? Type.COMMIT_CLOSING_SESSION : Type.COMMIT_IN_SESSION;
        }

        @Override
        public CommitInSession stamped(long millis) {
            return new CommitInSession(name, root, sessionId, millis, closesSession, parent);
        }
    }
}
