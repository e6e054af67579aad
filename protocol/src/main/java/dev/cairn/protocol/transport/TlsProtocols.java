package dev.cairn.protocol.transport;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/** What both ends share about TLS: the protocol versions, and handshake failures in plain words. */
final class TlsProtocols {

    /** TLS 1.3, and 1.2 for peers that lack it; nothing older. */
    static final String[] ENABLED = {"TLSv1.3", "TLSv1.2"};

    /**
     * The plaintext handed to each encryption call of a connection's TLS: 256 KiB, which BoringSSL
     * cuts into 16 records of 16 KiB in one call and one buffer. Netty's default is one record per
     * call, so a node's 4 MiB answer took 256 calls, 256 buffers and 256 queued writes. Sending 4 MiB
     * messages over loopback, this size took a fifth less CPU and a third less time than one record
     * per call (docs/security.md, "What TLS costs"). Records stay 16 KiB, the TLS limit, and the
     * cipher is the same. The JDK's TLS encrypts one record per call whatever this says.
     */
    static final int WRAP_BYTES = 256 * 1024;

    private TlsProtocols() {}

    /** {@code ssl}, set to encrypt {@link #WRAP_BYTES} per call. */
    static SslHandler tuned(SslHandler ssl) {
        ssl.setWrapDataSize(WRAP_BYTES);
        return ssl;
    }

    static final String BORINGSSL = "BoringSSL (netty-tcnative)";
    static final String JDK = "the JDK";

    /** "BoringSSL" when Netty's OpenSSL binding loaded (and is what SslContextBuilder picks), else "the JDK". */
    static String implementation() {
        return io.netty.handler.ssl.OpenSsl.isAvailable() ? BORINGSSL : JDK;
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
