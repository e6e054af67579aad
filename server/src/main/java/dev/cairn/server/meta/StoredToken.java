package dev.cairn.server.meta;

import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.AuthMessages.TokenInfo;
import java.security.MessageDigest;
import java.util.Objects;

/** An access token as the catalog holds it: what it may do, and the SHA-256 of its secret (never the secret). */
public record StoredToken(TokenInfo info, byte[] secretHash) {

    public StoredToken {
        Objects.requireNonNull(info, "info");
        if (secretHash == null || secretHash.length != AuthMessages.SECRET_HASH_BYTES) {
            throw new IllegalArgumentException("a token's secret hash is " + AuthMessages.SECRET_HASH_BYTES + " bytes");
        }
        secretHash = secretHash.clone();
    }

    @Override
    public byte[] secretHash() {
        return secretHash.clone();
    }

    /** Equal tokens have equal fields, the hash compared by content (a record compares arrays by identity). */
    @Override
    public boolean equals(Object o) {
        return o instanceof StoredToken t && info.equals(t.info) && java.util.Arrays.equals(secretHash, t.secretHash);
    }

    @Override
    public int hashCode() {
        return info.hashCode() * 31 + java.util.Arrays.hashCode(secretHash);
    }

    @Override
    public String toString() {
        return "StoredToken[" + info + "]"; // never the hash: logs need not carry it
    }

    /** Whether {@code presentedHash} is this token's; constant time, so timing tells nothing of the hash. */
    public boolean matches(byte[] presentedHash) {
        return MessageDigest.isEqual(secretHash, presentedHash);
    }

    /** The same token and hash, created at {@code millis}. */
    StoredToken createdAt(long millis) {
        TokenInfo i = info;
        return new StoredToken(new TokenInfo(i.id(), i.tenant(), i.role(), i.prefixes(), millis), secretHash);
    }

    /** Equal when id, tenant, role, prefixes and hash are (the creation time aside): a retried create. */
    boolean sameAs(StoredToken other) {
        TokenInfo a = info;
        TokenInfo b = other.info;
        return a.id().equals(b.id()) && a.tenant().equals(b.tenant()) && a.role() == b.role()
                && a.prefixes().equals(b.prefixes()) && MessageDigest.isEqual(secretHash, other.secretHash);
    }
}
