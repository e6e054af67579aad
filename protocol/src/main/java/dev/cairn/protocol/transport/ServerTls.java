package dev.cairn.protocol.transport;

import dev.cairn.config.ConfigException;
import dev.cairn.config.TlsConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The TLS of a node's listening ports: the node's certificate, and the cluster CA against which a
 * peer's certificate is checked when the peer shows one (client authentication is optional:
 * clients have none, nodes do). {@link #OFF} leaves a port plain.
 */
public final class ServerTls {

    /** Plain TCP: {@link #addTo} adds nothing. */
    public static final ServerTls OFF = new ServerTls(null);

    private final SslContext context;

    private ServerTls(SslContext context) {
        this.context = context;
    }

    /** The TLS of {@code config}: {@link #OFF} when it is off; fails with the file at fault when a PEM cannot be read. */
    public static ServerTls of(TlsConfig config) {
        if (!config.enabled()) {
            return OFF;
        }
        if (!config.presentsCertificate()) {
            throw new ConfigException("tls: a node needs tls.cert and tls.key");
        }
        config.requireFiles();
        try {
            return new ServerTls(SslContextBuilder.forServer(config.cert().toFile(), config.key().toFile())
                    .trustManager(config.caCert().toFile())
                    .clientAuth(ClientAuth.OPTIONAL)
                    .protocols(TlsProtocols.ENABLED)
                    .build());
        } catch (Exception e) {
            throw new ConfigException("tls: cannot use " + config.cert() + " with key " + config.key() + " and CA "
                    + config.caCert() + " (" + TlsProtocols.reason(e) + "); are they PEM files, the key unencrypted PKCS#8?", e);
        }
    }

    public boolean enabled() {
        return context != null;
    }

    /**
     * What encrypts this node's ports, read from the context the node built, not from what could
     * load: BoringSSL (netty-tcnative) where its native library loads, which Netty then prefers,
     * else the JDK's TLS; for the start log, since the two differ in cost.
     */
    public String implementation() {
        return context instanceof ReferenceCountedOpenSslContext ? TlsProtocols.BORINGSSL : TlsProtocols.JDK;
    }

    /**
     * Puts TLS first in a new connection's pipeline: nothing is read from the connection but a TLS
     * handshake until it completes, and a connection that does not speak TLS is closed unanswered.
     * Records the peer's {@link PeerIdentity} on the channel. Without TLS it adds nothing.
     */
    public void addTo(ChannelPipeline pipeline) {
        if (context == null) {
            return;
        }
        Channel ch = pipeline.channel();
        pipeline.addFirst("tls-identity", new IdentityRecorder());
        pipeline.addFirst("tls", TlsProtocols.tuned(context.newHandler(ch.alloc())));
    }

    /** Sets {@link PeerIdentity#KEY} when the handshake completes, then leaves the pipeline. */
    private static final class IdentityRecorder extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent done) {
                if (!done.isSuccess()) {
                    ctx.close(); // the SslHandler closes too; no request is ever read
                    return;
                }
                ctx.channel().attr(PeerIdentity.KEY).set(identity(ctx.pipeline().get(SslHandler.class)));
                ctx.fireUserEventTriggered(evt);
                ctx.pipeline().remove(this);
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        /**
         * A connection that fails its handshake (plain TCP, a certificate the CA did not sign) ends
         * here, closed, instead of reaching the request handlers as an error to log.
         */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() instanceof javax.net.ssl.SSLException) {
                ctx.close();
                return;
            }
            ctx.fireExceptionCaught(cause);
        }

        private static PeerIdentity identity(SslHandler ssl) {
            try {
                Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
                // The trust manager already checked the chain against the cluster CA during the
                // handshake; a chain that reaches here is the CA's.
                if (chain.length > 0 && chain[0] instanceof X509Certificate x509) {
                    return new PeerIdentity(true, x509.getSubjectX500Principal().getName());
                }
            } catch (SSLPeerUnverifiedException e) {
                // no certificate: a client
            }
            return PeerIdentity.ANONYMOUS;
        }
    }
}
