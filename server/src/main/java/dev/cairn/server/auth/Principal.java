package dev.cairn.server.auth;

import dev.cairn.protocol.AuthMessages.Role;
import dev.cairn.protocol.AuthMessages.TokenInfo;
import java.util.List;

/**
 * Who a request runs as: another node of the cluster (it showed the cluster secret), a client
 * token (tenant, role, prefixes), or, on a node whose {@code auth.required} is false, an
 * unauthenticated connection, which keeps the rights every connection had before tokens.
 *
 * @param secretHash the SHA-256 the token was verified with, so that a token revoked and created
 *     again under the same id does not carry over an old connection (null unless a token)
 */
public record Principal(Kind kind, TokenInfo token, byte[] secretHash) {

    /** The kinds of principal. */
    public enum Kind {
        /** A node of this cluster: may do everything, node-only requests included. */
        NODE,
        /** A client token: its role and prefixes decide. */
        TOKEN,
        /** No token, on a node that does not require one: everything, as before tokens (the node warns at start). */
        OPEN
    }

    static final Principal NODE = new Principal(Kind.NODE, null, null);
    static final Principal OPEN = new Principal(Kind.OPEN, null, null);

    static Principal of(TokenInfo token, byte[] secretHash) {
        return new Principal(Kind.TOKEN, token, secretHash);
    }

    /** The role this principal acts with: admin for nodes and open connections. */
    Role role() {
        return kind == Kind.TOKEN ? token.role() : Role.ADMIN;
    }

    /** Whether image name {@code name} is within this principal's prefixes. */
    boolean covers(String name) {
        return kind != Kind.TOKEN || token.covers(name);
    }

    /** The prefixes a listing is limited to; empty for every name. */
    List<String> prefixes() {
        return kind == Kind.TOKEN ? token.prefixes() : List.of();
    }

    /** "token 0123… (tenant team-a, role read)" for messages. */
    String describe() {
        return switch (kind) {
            case NODE -> "the cluster's node secret";
            case OPEN -> "no token";
            case TOKEN -> "token " + token.id() + " (tenant " + token.tenant() + ", role " + token.role().label() + ")";
        };
    }
}
