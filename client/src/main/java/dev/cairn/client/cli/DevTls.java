package dev.cairn.client.cli;

import dev.cairn.config.NodeAddress;
import dev.cairn.config.TlsConfig;
import dev.cairn.protocol.transport.TlsCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The certificates of a {@code cairn dev --tls} cluster: one CA under {@code DIR/tls/} and one
 * certificate per node under {@code DIR/node-I/tls/}, each key readable by its owner only. Made
 * once; a restart on the same directory keeps them.
 */
final class DevTls {

    private final Path dataDir;

    DevTls(Path dataDir) {
        this.dataDir = dataDir;
    }

    /** The CA's certificate: what a client's {@code CAIRN_TLS_CA} names. */
    Path caCert() {
        return dataDir.resolve("tls").resolve("ca.pem");
    }

    /** The CA, made now unless the directory has one. */
    TlsCertificates.Issued authority(Instant now) throws IOException {
        Path dir = dataDir.resolve("tls");
        TlsCertificates.Issued ca = new TlsCertificates.Issued(caCert(), dir.resolve("ca-key.pem"));
        if (Files.exists(ca.cert()) && Files.exists(ca.key())) {
            return ca;
        }
        return TlsCertificates.createAuthority(dir, "cairn dev CA " + dataDir.getFileName(), now);
    }

    /** Node {@code node}'s TLS: a certificate signed by {@code ca} naming its host, made now unless it exists. */
    TlsConfig node(TlsCertificates.Issued ca, NodeAddress node, Instant now) throws IOException {
        Path dir = dataDir.resolve(node.id()).resolve("tls");
        TlsCertificates.Issued cert = new TlsCertificates.Issued(dir.resolve("node.pem"), dir.resolve("node-key.pem"));
        if (!Files.exists(cert.cert()) || !Files.exists(cert.key())) {
            cert = TlsCertificates.issue(ca, dir, "node", node.id(), List.of(node.host()), now);
        }
        return TlsConfig.node(ca.cert(), cert.cert(), cert.key());
    }
}
