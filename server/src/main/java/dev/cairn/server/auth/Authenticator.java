package dev.cairn.server.auth;

import dev.cairn.config.AuthConfig;
import dev.cairn.config.ConfigException;
import dev.cairn.protocol.AuthMessages;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.StoredToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a presented token into a {@link Principal}: the cluster secret makes a node, a client
 * token is checked against this node's own catalog replica (SHA-256 of the secret, compared in
 * constant time), so a create or revoke counts here as soon as this replica applied it.
 */
public final class Authenticator {

    private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);
    /** The id part of the token the nodes present: not 16 hex digits, so never a client token's. */
    static final String NODE_ID = "node";

    private final boolean required;
    private final MetaService meta;
    /** The node token read from the cluster secret file, or null; presented by this node's own clients. */
    private final String nodeToken;
    private final byte[] nodeTokenHash;

    Authenticator(boolean required, MetaService meta, String nodeToken) {
        this.required = required;
        this.meta = meta;
        this.nodeToken = nodeToken;
        this.nodeTokenHash = nodeToken == null ? null : sha256(nodeToken);
    }

    /** Reads the cluster secret file of {@code config}; warns loudly when authentication is off. */
    public static Authenticator start(AuthConfig config, MetaService meta, String nodeId) {
        String nodeToken = null;
        if (config.clusterSecretFile() != null) {
            try {
                nodeToken = Files.readString(config.clusterSecretFile(), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new ConfigException("auth.clusterSecretFile " + config.clusterSecretFile() + " cannot be read ("
                        + e.getMessage() + "); every node needs the same file (cairn dev writes one)");
            }
            if (!nodeToken.startsWith(NODE_ID + ".") || nodeToken.length() < NODE_ID.length() + 1 + 32) {
                throw new ConfigException("auth.clusterSecretFile " + config.clusterSecretFile() + " does not hold a cluster "
                        + "secret (one line: node. and at least 32 random characters)");
            }
        }
        if (!config.required()) {
            LOG.warn("*** AUTHENTICATION IS OFF on node {}: auth.required is false, so anyone who reaches its ports may "
                    + "read, write and delete every image and administer the cluster. Set auth.required: true with "
                    + "auth.clusterSecretFile (docs/security.md). ***", nodeId);
        }
        return new Authenticator(config.required(), meta, nodeToken);
    }

    /** The token this node's own clients present to its peers, or null when it has no cluster secret. */
    public String nodeToken() {
        return nodeToken;
    }

    /** The principal of {@code presented} ({@code ID.SECRET} or the cluster secret); refused when it is neither. */
    public Principal authenticate(String presented) {
        int dot = presented.indexOf('.');
        String id = dot <= 0 ? "" : presented.substring(0, dot);
        if (id.equals(NODE_ID)) {
            if (nodeTokenHash != null && MessageDigest.isEqual(nodeTokenHash, sha256(presented))) {
                return Principal.NODE;
            }
            throw AuthException.unauthenticated("the cluster secret presented is not this node's; every node needs the "
                    + "same auth.clusterSecretFile");
        }
        byte[] hash = sha256(presented.substring(dot + 1));
        Optional<StoredToken> stored = validId(id) ? meta.tokens().get(id) : Optional.empty();
        if (stored.isEmpty() || !stored.get().matches(hash)) {
            throw AuthException.unauthenticated("the access token is not known to this cluster (mistyped, revoked, or not "
                    + "applied on this node yet); check CAIRN_TOKEN_FILE or ask an admin for a token");
        }
        return Principal.of(stored.get().info(), hash);
    }

    /**
     * The principal a request on a connection runs as: {@code connection} (null: not authenticated)
     * as this replica knows it now, so a revoked token is refused at its next request and a
     * changed one acts with its new rights.
     */
    public Principal current(Principal connection) {
        if (connection == null) {
            if (required) {
                throw AuthException.unauthenticated("this cluster requires an access token: set CAIRN_TOKEN_FILE to a file "
                        + "holding one (cairn admin token create), or an Authorization: Bearer header on HTTP");
            }
            return Principal.OPEN;
        }
        if (connection.kind() != Principal.Kind.TOKEN) {
            return connection;
        }
        Optional<StoredToken> stored = meta.tokens().get(connection.token().id());
        if (stored.isEmpty() || !stored.get().matches(connection.secretHash())) {
            throw AuthException.unauthenticated("access token " + connection.token().id() + " was revoked; ask an admin "
                    + "for a new one");
        }
        return Principal.of(stored.get().info(), connection.secretHash());
    }

    private static boolean validId(String id) {
        try {
            AuthMessages.checkId(id);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
