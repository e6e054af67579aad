package dev.cairn.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Transport security of one end: the cluster CA it trusts and, for a node (or a node's own
 * client), the certificate and key it presents; all PEM files.
 *
 * <p>A node with TLS on serves both ports over TLS only, presents {@code cert}, and checks a peer's
 * certificate, when the peer shows one, against {@code caCert}. A client with a {@code caCert}
 * speaks TLS and refuses a node whose certificate the CA did not sign; {@code cert} and {@code key}
 * are for the clients a node runs for itself (repair, the HTTP gateway), so that peers know it
 * as a node.
 *
 * @param enabled false: plain TCP, nothing encrypted or authenticated (the other fields are null)
 * @param caCert the cluster CA's certificate (PEM)
 * @param cert this end's certificate chain (PEM), signed by the CA; null for a plain client
 * @param key this end's private key (PEM, PKCS#8, unencrypted), readable only by its owner; null
 *     for a plain client
 */
public record TlsConfig(boolean enabled, Path caCert, Path cert, Path key) {

    /** Plain TCP. */
    public static final TlsConfig OFF = new TlsConfig(false, null, null, null);

    public TlsConfig {
        if (enabled) {
            if (caCert == null) {
                throw new ConfigException("tls.caCert is missing: with tls.enabled, name the cluster CA's certificate (PEM)");
            }
            if ((cert == null) != (key == null)) {
                throw new ConfigException("tls.cert and tls.key go together: give both or neither");
            }
        }
    }

    /** A node's TLS: every file is required, and must exist. */
    public static TlsConfig node(Path caCert, Path cert, Path key) {
        if (cert == null || key == null) {
            throw new ConfigException("tls.cert and tls.key are missing: a node with tls.enabled presents a certificate"
                    + " signed by the cluster CA (cairn dev --tls writes them)");
        }
        TlsConfig tls = new TlsConfig(true, caCert, cert, key);
        tls.requireFiles();
        return tls;
    }

    /** A client that trusts {@code caCert} and presents no certificate. */
    public static TlsConfig client(Path caCert) {
        return new TlsConfig(true, caCert, null, null);
    }

    /** True when this end presents a certificate of its own. */
    public boolean presentsCertificate() {
        return enabled && cert != null;
    }

    /** Fails with the field's name when a named file does not exist. */
    public void requireFiles() {
        requireFile("tls.caCert", caCert);
        requireFile("tls.cert", cert);
        requireFile("tls.key", key);
    }

    private static void requireFile(String field, Path file) {
        if (file != null && !Files.isRegularFile(file)) {
            throw new ConfigException(field + ": " + file + " does not exist or is not a file");
        }
    }
}
