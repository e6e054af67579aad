package dev.cairn.protocol.transport;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * Makes a cluster CA and node certificates as PEM files (BouncyCastle builds and signs them; the
 * keys are ECDSA P-256 from the JDK). For {@code cairn dev --tls} and tests; an operator may use
 * any CA instead (docs/security.md).
 */
public final class TlsCertificates {

    /** A CA lasts ten years: a dev cluster's data directory should not stop working on its own. */
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** A node certificate lasts two years; rotate before (docs/security.md). */
    static final Duration NODE_VALIDITY = Duration.ofDays(730);

    /** A certificate and its private key, as PEM files; the key file is readable by its owner only. */
    public record Issued(Path cert, Path key) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private TlsCertificates() {}

    /** A new self-signed CA named {@code name}: {@code dir/ca.pem} and {@code dir/ca-key.pem}. */
    public static Issued createAuthority(Path dir, String name, Instant now) throws IOException {
        KeyPair keys = newKeys();
        X500Principal subject = new X500Principal("CN=" + name);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(subject, subject, keys, now, CA_VALIDITY)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return write(dir, "ca", sign(b, keys.getPrivate()), keys.getPrivate());
        } catch (GeneralSecurityException | org.bouncycastle.cert.CertIOException e) {
            throw new IOException("cannot make a CA certificate: " + e.getMessage(), e);
        }
    }

    /**
     * A certificate for {@code name} signed by {@code ca}, good for both ends of a TLS connection,
     * naming {@code hosts} (IP addresses or DNS names) and always 127.0.0.1 and localhost:
     * {@code dir/FILE.pem} and {@code dir/FILE-key.pem}.
     */
    public static Issued issue(Issued ca, Path dir, String file, String name, List<String> hosts, Instant now) throws IOException {
        KeyPair keys = newKeys();
        try {
            X509Certificate caCert = readCertificate(ca.cert());
            PrivateKey caKey = readKey(ca.key());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(caCert.getSubjectX500Principal(), new X500Principal("CN=" + name), keys, now,
                    NODE_VALIDITY)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, names(hosts))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return write(dir, file, sign(b, caKey), keys.getPrivate());
        } catch (GeneralSecurityException | org.bouncycastle.cert.CertIOException e) {
            throw new IOException("cannot make a certificate for " + name + ": " + e.getMessage(), e);
        }
    }

    private static KeyPair newKeys() throws IOException {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IOException("this JVM cannot make EC P-256 keys: " + e.getMessage(), e);
        }
    }

    private static X509v3CertificateBuilder builder(X500Principal issuer, X500Principal subject, KeyPair keys, Instant now,
                                                    Duration validity) {
        // Valid from an hour back: a peer whose clock is a little behind still accepts it.
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            return new JcaX509CertificateConverter().getCertificate(b.build(signer));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    private static GeneralNames names(List<String> hosts) {
        Set<String> all = new LinkedHashSet<>(List.of("127.0.0.1", "localhost"));
        all.addAll(hosts);
        List<GeneralName> names = new ArrayList<>();
        for (String h : all) {
            names.add(new GeneralName(isIpAddress(h) ? GeneralName.iPAddress : GeneralName.dNSName, h));
        }
        return new GeneralNames(names.toArray(GeneralName[]::new));
    }

    private static boolean isIpAddress(String host) {
        return host.matches("[0-9.]+") || host.contains(":");
    }

    private static Issued write(Path dir, String file, X509Certificate cert, PrivateKey key) throws IOException {
        Files.createDirectories(dir);
        Path certFile = dir.resolve(file + ".pem");
        Path keyFile = dir.resolve(file + "-key.pem");
        Files.writeString(certFile, pem(cert));
        // The key file is created empty with owner-only permissions before its bytes go in, so it
        // is never readable by others, not even for a moment.
        Files.deleteIfExists(keyFile);
        Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(keyFile, pem(new JcaPKCS8Generator(key, null)));
        return new Issued(certFile, keyFile);
    }

    private static String pem(Object o) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(o instanceof JcaPKCS8Generator g ? g.generate() : o);
        }
        return s.toString();
    }

    static X509Certificate readCertificate(Path file) throws IOException, GeneralSecurityException {
        try (var in = Files.newInputStream(file)) {
            return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    static PrivateKey readKey(Path file) throws IOException, GeneralSecurityException {
        try (PemReader r = new PemReader(Files.newBufferedReader(file))) {
            PemObject o = r.readPemObject();
            if (o == null) {
                throw new IOException(file + " holds no PEM key");
            }
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(o.getContent()));
        }
    }
}
