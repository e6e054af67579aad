package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.NodeAddress;
import dev.cairn.config.TlsConfig;
import dev.cairn.protocol.transport.TlsCertificates;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA and node certificates {@code cairn dev --tls} makes under its data directory. */
class DevTlsTest {

    @TempDir
    Path dir;

    @Test
    void eachNodeGetsACertificateOfTheDevCaNamingItsHostWithAnOwnerOnlyKey() throws Exception {
        DevTls dev = new DevTls(dir);
        Instant now = Instant.parse("2026-12-07T18:00:00Z");
        TlsCertificates.Issued ca = dev.authority(now);
        assertEquals(dir.resolve("tls/ca.pem"), dev.caCert());
        assertEquals(dev.caCert(), ca.cert());
        TlsConfig node = dev.node(ca, new NodeAddress("node-2", "cairn-b.example", 7410, 7411, 7412), now);
        assertEquals(dir.resolve("node-2/tls/node.pem"), node.cert());
        assertEquals(dev.caCert(), node.caCert());
        for (Path key : List.of(ca.key(), node.key())) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)), key.toString());
        }
        X509Certificate caCert = read(ca.cert());
        X509Certificate cert = read(node.cert());
        cert.verify(caCert.getPublicKey()); // signed by the dev CA
        assertEquals("CN=node-2", cert.getSubjectX500Principal().getName());
        Set<String> names = cert.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).collect(Collectors.toSet());
        assertEquals(Set.of("127.0.0.1", "localhost", "cairn-b.example"), names);
        assertTrue(cert.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")),
                "good for both ends: " + cert.getExtendedKeyUsage());
    }

    @Test
    void aRestartKeepsTheCaAndTheNodesCertificates() throws Exception {
        DevTls dev = new DevTls(dir);
        NodeAddress a = new NodeAddress("node-1", "127.0.0.1", 7400, 7401, 7402);
        Instant now = Instant.now();
        TlsConfig first = dev.node(dev.authority(now), a, now);
        String caBefore = Files.readString(dev.caCert());
        String certBefore = Files.readString(first.cert());
        TlsConfig again = dev.node(dev.authority(now.plusSeconds(60)), a, now.plusSeconds(60));
        assertEquals(first, again);
        assertEquals(caBefore, Files.readString(dev.caCert()));
        assertEquals(certBefore, Files.readString(again.cert()));
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
