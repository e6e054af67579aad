package dev.cairn.protocol.transport;

import dev.cairn.config.ConfigException;
import dev.cairn.config.TlsConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The TLS of a client's connections to nodes: it trusts the cluster CA only, checks that a node's
 * certificate names the host it dialled, and, for a node's own clients, presents the node's
 * certificate so that peers know it as a node. {@link #OFF} leaves connections plain.
 */
public final class ClientTls {

    /** Plain TCP: {@link #addTo} adds nothing. */
    public static final ClientTls OFF = new ClientTls(null);

    private final SslContext context;

    private ClientTls(SslContext context) {
        this.context = context;
    }

    /** The TLS of {@code config}: {@link #OFF} when it is off; fails with the file at fault when a PEM cannot be read. */
    public static ClientTls of(TlsConfig config) {
        if (!config.enabled()) {
            return OFF;
        }
        config.requireFiles();
        try {
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .trustManager(config.caCert().toFile())
                    .endpointIdentificationAlgorithm("HTTPS")
                    .protocols(TlsProtocols.ENABLED);
            if (config.presentsCertificate()) {
                builder.keyManager(config.cert().toFile(), config.key().toFile());
            }
            return new ClientTls(builder.build());
        } catch (Exception e) {
            throw new ConfigException("tls: cannot use CA " + config.caCert()
                    + (config.presentsCertificate() ? ", certificate " + config.cert() + " and key " + config.key() : "")
                    + " (" + TlsProtocols.reason(e) + "); are they PEM files, the key unencrypted PKCS#8?", e);
        }
    }

    public boolean enabled() {
        return context != null;
    }

    /** Puts TLS first in a new connection's pipeline to {@code host:port}; without TLS it adds nothing. */
    public void addTo(ChannelPipeline pipeline, String host, int port) {
        if (context != null) {
            pipeline.addFirst("tls", TlsProtocols.tuned(context.newHandler(pipeline.channel().alloc(), host, port)));
        }
    }

    /**
     * Waits (at most {@code timeout}) until the TLS handshake of {@code channel} completes, so that a
     * refused certificate fails the connection with its reason instead of as a closed connection.
     * Returns at once on a connection without TLS.
     *
     * @throws IOException saying why the handshake failed ("its certificate is not signed by the CA
     *     this end trusts"...); the channel is closed
     */
    public static void awaitHandshake(Channel channel, Duration timeout) throws IOException {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return;
        }
        Future<Channel> done = ssl.handshakeFuture();
        if (!done.awaitUninterruptibly(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            channel.close();
            throw new IOException("TLS handshake not finished within " + timeout.toMillis() + " ms");
        }
        if (!done.isSuccess()) {
            channel.close();
            // The reason alone, no cause: the client reports the first plain words in the chain, and a
            // closed channel under it would hide why.
            throw new IOException("TLS handshake failed: " + TlsProtocols.reason(done.cause()));
        }
    }
}
