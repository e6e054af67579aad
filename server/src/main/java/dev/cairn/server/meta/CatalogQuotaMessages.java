package dev.cairn.server.meta;

import static dev.cairn.server.meta.CatalogBytes.checkFullyRead;

import dev.cairn.protocol.QuotaMessages;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Type;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * The byte quota requests of the catalog (set, remove) and the byte format of a quota in the
 * {@code quotas} column family: prefix (the key) to u8 version, i64 max bytes, i64 used bytes.
 */
final class CatalogQuotaMessages {

    private static final int QUOTA_VERSION = 1;
    private static final int STORED_BYTES = 1 + 8 + 8;

    private CatalogQuotaMessages() {}

    /**
     * Sets the quota of {@code prefix} to {@code maxBytes}. A new quota counts the images already
     * under the prefix (one scan, in apply); an existing one keeps its count and changes its maximum.
     */
    record SetQuota(String prefix, long maxBytes) implements Request {
        SetQuota {
            QuotaMessages.checkPrefix(prefix);
            QuotaMessages.checkMaxBytes(maxBytes);
        }

        @Override
        public Type type() {
            return Type.SET_QUOTA;
        }
    }

    /** Removes the quota of {@code prefix}: commits under it are no longer limited. */
    record RemoveQuota(String prefix) implements Request {
        RemoveQuota {
            QuotaMessages.checkPrefix(prefix);
        }

        @Override
        public Type type() {
            return Type.REMOVE_QUOTA;
        }
    }

    static byte[] encodeStored(StoredQuota q) {
        return ByteBuffer.allocate(STORED_BYTES).put((byte) QUOTA_VERSION).putLong(q.maxBytes()).putLong(q.usedBytes()).array();
    }

    static StoredQuota decodeStored(String prefix, byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        try {
            int version = b.get() & 0xff;
            if (version != QUOTA_VERSION) {
                throw new MalformedMessageException("quota " + prefix + " is stored in version " + version
                        + "; this build reads " + QUOTA_VERSION);
            }
            StoredQuota q = new StoredQuota(prefix, b.getLong(), b.getLong());
            checkFullyRead(b);
            return q;
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("stored quota " + prefix + " is truncated", e);
        } catch (IllegalArgumentException e) {
            throw e instanceof MalformedMessageException m ? m : new MalformedMessageException(e.getMessage(), e);
        }
    }
}
