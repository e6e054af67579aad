package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogStore.Applied;
import dev.cairn.server.meta.CatalogStore.GcPhase;
import dev.cairn.server.meta.CatalogStore.GcState;
import dev.cairn.server.meta.CatalogStore.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * The byte format of the catalog's own values in RocksDB (not of log entries): the applied
 * position, upload sessions, the GC state, the log time and the membership index. Each starts
 * with a version byte; a value of another version or length is refused, never guessed at.
 */
final class StoredValues {

    private static final int LAST_APPLIED_VERSION = 1;
    private static final int SESSION_VERSION = 1;
    private static final int GC_VERSION = 1;
    private static final int LOG_TIME_VERSION = 1;
    private static final int MEMBERSHIP_INDEX_VERSION = 1;

    private StoredValues() {}

    static byte[] encodeApplied(Applied applied) {
        return ByteBuffer.allocate(17).put((byte) LAST_APPLIED_VERSION)
                .putLong(applied.term()).putLong(applied.index()).array();
    }

    static Applied decodeApplied(byte[] value) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(value);
        int version = b.get() & 0xff;
        if (version != LAST_APPLIED_VERSION || b.remaining() != 16) {
            throw new IOException("catalog last-applied marker has version " + version + " and "
                    + value.length + " bytes; this build writes version " + LAST_APPLIED_VERSION);
        }
        return new Applied(b.getLong(), b.getLong());
    }

    /** A session's value; its id is the key. */
    static byte[] encodeSession(Session s) {
        return ByteBuffer.allocate(1 + 16 + 8 + 8).put((byte) SESSION_VERSION)
                .put(uuid(s.clientId())).putLong(s.openedAtIndex()).putLong(s.leaseExpiryMillis()).array();
    }

    static Session decodeSession(UUID sessionId, byte[] value) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(value);
        int version = b.get() & 0xff;
        if (version != SESSION_VERSION || b.remaining() != 32) {
            throw new IOException("session " + sessionId + " has version " + version + " and " + value.length
                    + " bytes; this build writes version " + SESSION_VERSION);
        }
        return new Session(sessionId, new UUID(b.getLong(), b.getLong()), b.getLong(), b.getLong());
    }

    static byte[] encodeGcState(GcState g) {
        return ByteBuffer.allocate(1 + 8 + 1 + 8).put((byte) GC_VERSION)
                .putLong(g.epoch()).put((byte) g.phase().code).putLong(g.begunAtIndex()).array();
    }

    static GcState decodeGcState(byte[] value) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(value);
        int version = b.get() & 0xff;
        if (version != GC_VERSION || b.remaining() != 17) {
            throw new IOException("GC state has version " + version + " and " + value.length
                    + " bytes; this build writes version " + GC_VERSION);
        }
        long epoch = b.getLong();
        return new GcState(epoch, GcPhase.of(b.get() & 0xff), b.getLong());
    }

    static byte[] encodeLogTime(long millis) {
        return ByteBuffer.allocate(9).put((byte) LOG_TIME_VERSION).putLong(millis).array();
    }

    static long decodeLogTime(byte[] value) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(value);
        int version = b.get() & 0xff;
        if (version != LOG_TIME_VERSION || b.remaining() != 8) {
            throw new IOException("log time has version " + version + "; this build writes version " + LOG_TIME_VERSION);
        }
        return b.getLong();
    }

    static byte[] encodeMembershipIndex(long index) {
        return ByteBuffer.allocate(9).put((byte) MEMBERSHIP_INDEX_VERSION).putLong(index).array();
    }

    static long decodeMembershipIndex(byte[] value) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(value);
        int version = b.get() & 0xff;
        if (version != MEMBERSHIP_INDEX_VERSION || b.remaining() != 8) {
            throw new IOException("membership index has version " + version + "; this build writes version "
                    + MEMBERSHIP_INDEX_VERSION);
        }
        return b.getLong();
    }

    /** A UUID as 16 bytes, most significant first: a session's key, and a client id in its value. */
    static byte[] uuid(UUID id) {
        return ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array();
    }
}
