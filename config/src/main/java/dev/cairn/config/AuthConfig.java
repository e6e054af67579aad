package dev.cairn.config;

import java.nio.file.Path;

/**
 * How a node authenticates requests (docs/security.md).
 *
 * @param required true: every request but AUTH needs an authenticated connection (a client
 *     token, or the cluster secret for the nodes); false (the default of a hand-written config,
 *     so clusters configured before tokens keep working): a connection without a token acts as an
 *     admin, and the node says so loudly at start. A token presented is checked either way.
 * @param clusterSecretFile the file holding the secret the nodes present to each other (one line,
 *     {@code node.SECRET}), the same on every node; null for none. Required when {@code required}.
 */
public record AuthConfig(boolean required, Path clusterSecretFile) {

    /** No authentication required, no cluster secret: how every config before tokens behaves. */
    public static final AuthConfig OFF = new AuthConfig(false, null);

    public AuthConfig {
        if (required && clusterSecretFile == null) {
            throw new ConfigException("auth.required is true but auth.clusterSecretFile is not set: the nodes "
                    + "authenticate to each other with that file (cairn dev writes one)");
        }
    }
}
