package dev.cairn.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/** Header messages of the AUTH and TOKEN_CREATE, TOKEN_LIST and TOKEN_REVOKE requests and their answers. */
public final class AuthMessages {

    private AuthMessages() {}

    /** A token id: 16 lowercase hex digits, chosen at random by whoever creates the token. */
    private static final Pattern TOKEN_ID = Pattern.compile("[0-9a-f]{16}");
    /** A tenant: a short name in the characters of an image name segment. */
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** Length of a SHA-256 digest, the only form in which a token's secret leaves its creator. */
    public static final int SECRET_HASH_BYTES = 32;
    /** Most prefixes one token may carry: a token is for one tenant's few name spaces. */
    public static final int MAX_PREFIXES = 64;

    /** What a token may do, each role including the ones before it. Codes are never reused. */
    public enum Role {
        /** get, ls, stat and the chunk reads they need. */
        READ,
        /** read, and put and rm (chunks, sessions, commits, deletes). */
        WRITE,
        /** write, and health, GC runs, repair, scrub, membership and tokens. */
        ADMIN;

        public boolean allows(Role needed) {
            return ordinal() >= needed.ordinal();
        }

        /** {@code read}, {@code write} or {@code admin}. */
        public static Role parse(String text) {
            for (Role r : values()) {
                if (r.name().equalsIgnoreCase(text)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("role '" + text + "' is not one of read, write, admin");
        }

        static Role of(int code) {
            if (code < 0 || code >= values().length) {
                throw new ProtocolException("unknown token role " + code);
            }
            return values()[code];
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Refuses a token id that is not 16 lowercase hex digits. */
    public static String checkId(String id) {
        if (id == null || !TOKEN_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("token id '" + id + "' is not 16 lowercase hex digits");
        }
        return id;
    }

    /**
     * Refuses a name prefix a new token may not carry: empty, over 256 characters, or not ending
     * in {@code /}. A prefix is matched as the start of a name, so without the slash {@code team-a}
     * would also cover {@code team-ab/...}, another tenant's names.
     */
    public static String checkPrefix(String prefix) {
        if (prefix == null || prefix.isEmpty() || prefix.length() > 256) {
            throw new IllegalArgumentException("a token prefix is 1-256 characters, not '" + prefix + "'");
        }
        if (!prefix.endsWith("/")) {
            throw new IllegalArgumentException("token prefix '" + prefix + "' must end with / (write '" + prefix
                    + "/'): without it, it would also cover names such as '" + prefix + "x/...' of other tenants");
        }
        return prefix;
    }

    /** Refuses a tenant name outside [A-Za-z0-9._-]{1,64}. */
    public static String checkTenant(String tenant) {
        if (tenant == null || !TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("tenant '" + tenant + "' must be 1-64 characters of A-Z a-z 0-9 . _ -");
        }
        return tenant;
    }

    /**
     * A token as the catalog records it. {@code prefixes} empty means every name (an operator's
     * token); {@code createdMillis} is 0 in a request (the Raft leader stamps the time).
     */
    public record TokenInfo(String id, String tenant, Role role, List<String> prefixes, long createdMillis) {
        public TokenInfo {
            checkId(id);
            checkTenant(tenant);
            Objects.requireNonNull(role, "role");
            prefixes = List.copyOf(prefixes);
            if (prefixes.size() > MAX_PREFIXES) {
                throw new IllegalArgumentException("a token carries at most " + MAX_PREFIXES + " prefixes, not " + prefixes.size());
            }
        }

        /** Whether image name (or listing prefix) {@code name} lies under one of this token's prefixes. */
        public boolean covers(String name) {
            return prefixes.isEmpty() || prefixes.stream().anyMatch(name::startsWith);
        }

        void write(WireWriter w) {
            w.string(id).string(tenant).u8(role.ordinal()).i32(prefixes.size());
            prefixes.forEach(w::string);
            w.i64(createdMillis);
        }

        static TokenInfo read(WireReader r) {
            String id = r.string("token id");
            String tenant = r.string("tenant");
            Role role = Role.of(r.u8("role"));
            int count = r.count("prefixes", 2);
            List<String> prefixes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                prefixes.add(r.string("prefix"));
            }
            return new TokenInfo(id, tenant, role, prefixes, r.i64("created"));
        }
    }

    /** TOKEN_CREATE request: the token and the SHA-256 of its secret; the secret itself never leaves the client. */
    public record CreateToken(TokenInfo token, byte[] secretHash) {
        public CreateToken {
            Objects.requireNonNull(token, "token");
            if (secretHash == null || secretHash.length != SECRET_HASH_BYTES) {
                throw new IllegalArgumentException("a token's secret hash is " + SECRET_HASH_BYTES + " bytes (SHA-256)");
            }
            secretHash = secretHash.clone();
        }

        @Override
        public byte[] secretHash() {
            return secretHash.clone();
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(128);
            token.write(w);
            w.bytes(secretHash);
            return w.toBuffer();
        }

        public static CreateToken decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            try {
                CreateToken c = new CreateToken(TokenInfo.read(r), r.bytes("secret hash"));
                r.end("token create request");
                return c;
            } catch (IllegalArgumentException e) {
                throw new ProtocolException(e.getMessage());
            }
        }
    }

    /** TOKEN_LIST response. */
    public record TokenList(List<TokenInfo> tokens) {
        public TokenList {
            tokens = List.copyOf(tokens);
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(64 + tokens.size() * 96).i32(tokens.size());
            tokens.forEach(t -> t.write(w));
            return w.toBuffer();
        }

        public static TokenList decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            int count = r.count("tokens", 16);
            List<TokenInfo> tokens = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                tokens.add(TokenInfo.read(r));
            }
            r.end("token list");
            return new TokenList(tokens);
        }
    }

    /** A one-string header: TOKEN_REVOKE's token id, AUTH's presented token. */
    public static ByteBuffer encodeString(String value) {
        return new WireWriter(64).string(value).toBuffer();
    }

    public static String decodeString(ByteBuffer header, String what) {
        WireReader r = new WireReader(header);
        String s = r.string(what);
        r.end(what);
        return s;
    }
}
