package dev.cairn.server.meta;

import dev.cairn.protocol.QuotaMessages;

/**
 * A byte quota as the catalog holds it: the name prefix (a tenant), its maximum and the logical
 * bytes of the images under it now, kept up to date by every commit and delete under it.
 */
public record StoredQuota(String prefix, long maxBytes, long usedBytes) {

    public StoredQuota {
        QuotaMessages.checkPrefix(prefix);
        QuotaMessages.checkMaxBytes(maxBytes);
        if (usedBytes < 0) {
            throw new IllegalArgumentException("quota " + prefix + " counts " + usedBytes + " bytes; never below 0");
        }
    }

    /** Whether image name {@code name} counts against this quota. */
    boolean covers(String name) {
        return name.startsWith(prefix);
    }

    /** Whether an image of {@code bytes} more still fits; written so that no sum can overflow. */
    boolean fits(long bytes) {
        return bytes <= maxBytes - usedBytes;
    }

    StoredQuota withUsed(long used) {
        return new StoredQuota(prefix, maxBytes, used);
    }
}
