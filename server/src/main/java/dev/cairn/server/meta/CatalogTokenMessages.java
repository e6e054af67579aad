package dev.cairn.server.meta;

import static dev.cairn.server.meta.CatalogBytes.checkFullyRead;
import static dev.cairn.server.meta.CatalogBytes.copyOut;
import static dev.cairn.server.meta.CatalogBytes.getBytes;
import static dev.cairn.server.meta.CatalogBytes.getString;
import static dev.cairn.server.meta.CatalogBytes.putBytes;
import static dev.cairn.server.meta.CatalogBytes.putString;

import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.AuthMessages.Role;
import dev.cairn.protocol.AuthMessages.TokenInfo;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Stamped;
import dev.cairn.server.meta.CatalogMessages.Type;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The access token requests of the catalog (create, revoke) and the byte format of a token in
 * log entries and in the {@code tokens} column family. A token is recorded with the SHA-256 of
 * its secret, never the secret: whoever reads a node's disk or its Raft log learns no secret.
 */
final class CatalogTokenMessages {

    private CatalogTokenMessages() {}

    /** Upper bound of one encoded token: id, tenant, role, 64 prefixes of at most 256 bytes, hash, time. */
    static final int MAX_TOKEN_BYTES = 2 + 16 + 2 + 64 + 1 + 4 + AuthMessages.MAX_PREFIXES * (2 + 256) + 2 + 32 + 8;
    private static final int MAX_PREFIX_BYTES = 256;
    private static final int TOKEN_VERSION = 1;

    /** Records a token; the leader stamps its creation time. The same token again is a retry (OK). */
    record CreateToken(StoredToken token, long leaderMillis) implements Stamped {
        CreateToken {
            Objects.requireNonNull(token, "token");
        }

        @Override
        public Type type() {
            return Type.CREATE_TOKEN;
        }

        @Override
        public CreateToken stamped(long millis) {
            return new CreateToken(token, millis);
        }
    }

    /** Forgets token {@code id}: every node refuses it once it has applied this entry. */
    record RevokeToken(String id) implements Request {
        RevokeToken {
            AuthMessages.checkId(id);
        }

        @Override
        public Type type() {
            return Type.REVOKE_TOKEN;
        }
    }

    /** Log entry body: str id, str tenant, u8 role, i32 count, count × str prefix, bytes hash (32); time is the entry's. */
    static void putToken(ByteBuffer b, StoredToken t) {
        putString(b, t.info().id());
        putString(b, t.info().tenant());
        b.put((byte) t.info().role().ordinal());
        b.putInt(t.info().prefixes().size());
        t.info().prefixes().forEach(p -> putString(b, p));
        putBytes(b, t.secretHash());
    }

    static StoredToken getToken(ByteBuffer b, long createdMillis) {
        String id = getString(b);
        String tenant = getString(b);
        int role = b.get() & 0xff;
        if (role >= Role.values().length) {
            throw new MalformedMessageException("token " + id + " has unknown role " + role);
        }
        int count = b.getInt();
        if (count < 0 || count > AuthMessages.MAX_PREFIXES) {
            throw new MalformedMessageException("token " + id + " has " + count + " prefixes; at most " + AuthMessages.MAX_PREFIXES);
        }
        List<String> prefixes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String p = getString(b);
            if (p.length() > MAX_PREFIX_BYTES) {
                throw new MalformedMessageException("a token prefix is longer than " + MAX_PREFIX_BYTES + " characters");
            }
            prefixes.add(p);
        }
        byte[] hash = getBytes(b, AuthMessages.SECRET_HASH_BYTES);
        return new StoredToken(new TokenInfo(id, tenant, Role.values()[role], prefixes, createdMillis), hash);
    }

    /** Stored value: u8 version, i64 created ms, then the log entry body. */
    static byte[] encodeStored(StoredToken t) {
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + MAX_TOKEN_BYTES);
        b.put((byte) TOKEN_VERSION).putLong(t.info().createdMillis());
        putToken(b, t);
        return copyOut(b);
    }

    static StoredToken decodeStored(byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        try {
            int version = b.get() & 0xff;
            if (version != TOKEN_VERSION) {
                throw new MalformedMessageException("a token is stored in version " + version + "; this build reads "
                        + TOKEN_VERSION);
            }
            StoredToken t = getToken(b, b.getLong());
            checkFullyRead(b);
            return t;
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("a stored token is truncated", e);
        } catch (IllegalArgumentException e) {
            throw e instanceof MalformedMessageException m ? m : new MalformedMessageException(e.getMessage(), e);
        }
    }
}
