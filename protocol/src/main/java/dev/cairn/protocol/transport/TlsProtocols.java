package dev.cairn.protocol.transport;

import io.netty.handler.ssl.NotSslRecordException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/** What both ends share about TLS: the protocol versions, and handshake failures in plain words. */
final class TlsProtocols {

    /** TLS 1.3, and 1.2 for peers that lack it; nothing older. */
    static final String[] ENABLED = {"TLSv1.3", "TLSv1.2"};

    private TlsProtocols() {}

    /** "BoringSSL" when Netty's OpenSSL binding loaded (and is what SslContextBuilder picks), else "the JDK". */
    static String implementation() {
        return io.netty.handler.ssl.OpenSsl.isAvailable() ? "BoringSSL (netty-tcnative)" : "the JDK";
    }

    /** Why a TLS setup or handshake failed, in a few words (no class names). */
    static String reason(Throwable error) {
        for (Throwable c = error; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage() == null ? "" : c.getMessage();
            if (c instanceof NotSslRecordException) {
                return "the other end does not speak TLS";
            }
            if (c instanceof CertPathValidatorException || m.contains("PKIX path")) {
                return "its certificate is not signed by the CA this end trusts";
            }
            if (m.contains("No subject alternative") || m.contains("No name matching")) {
                return "its certificate does not name the host it was reached at";
            }
            if (c instanceof CertificateException && m.contains("expired")) {
                return "its certificate has expired";
            }
            if (m.contains("bad_certificate") || m.contains("certificate_unknown") || m.contains("unknown_ca")) {
                return "it refused this end's certificate (not signed by the cluster CA)";
            }
            if (c instanceof SSLException && !m.isBlank() && c.getCause() == null) {
                return m;
            }
        }
        String m = error.getMessage();
        return m == null || m.isBlank() ? "TLS handshake failed" : m;
    }
}
