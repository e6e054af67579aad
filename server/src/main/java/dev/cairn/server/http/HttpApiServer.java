package dev.cairn.server.http;

import dev.cairn.client.CairnClient;
import dev.cairn.config.HttpLimits;
import dev.cairn.engine.Clock;
import dev.cairn.protocol.transport.ServerTls;
import dev.cairn.protocol.transport.WireAllocator;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.net.ConnectionCap;
import dev.cairn.server.store.ChunkStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The node's HTTP port, for agents that only speak HTTP. Image bodies stream in both directions
 * with bounded memory; a PUT is chunked, deduplicated and written with quorums exactly as the
 * Java client does it, because this node <em>is</em> a Java client of its cluster for that work.
 *
 * <p>One request per connection (the answer carries {@code Connection: close}): simple, and
 * enough for checkpoint agents, which move a few large bodies rather than many small ones. A
 * client that holds its transfer too long or too slowly is cut off ({@link SlowClientGuard},
 * {@link HttpLimits}), so a stalled client cannot keep one of the few transfer workers, and
 * connections beyond {@code http.maxConnections} are closed as they arrive ({@link ConnectionCap}).
 */
public final class HttpApiServer implements AutoCloseable {

    static final int MAX_INITIAL_LINE_BYTES = 8192;
    static final int MAX_HEADER_BYTES = 16 * 1024;

    private final MetaService meta;
    private final ChunkStore store;
    private final NodeMetrics metrics;
    private final ImageTransfers transfers;
    private final HttpLimits limits;
    private final Clock clock;
    private final HttpAuth auth;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ThreadPoolExecutor workers;
    private final ConnectionCap connections;
    private Channel serverChannel;
    private ServerTls tls = ServerTls.OFF;

    /**
     * @param client the client this node uses for image transfers (created on first use, after
     *     the node's own protocol port is up)
     */
    public HttpApiServer(MetaService meta, ChunkStore store, NodeMetrics metrics, Supplier<CairnClient> client,
                         HttpLimits limits, Clock clock, dev.cairn.server.auth.Authenticator authenticator) {
        this.limits = limits;
        this.clock = clock;
        this.auth = new HttpAuth(authenticator, limits.publicMonitoring());
        this.meta = meta;
        this.store = store;
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        // No queue: a transfer either gets a thread now or the caller is told to come back (503).
        int maxTransfers = limits.maxConcurrentTransfers();
        this.workers = new ThreadPoolExecutor(maxTransfers, maxTransfers, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "cairn-http-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.transfers = new ImageTransfers(client, metrics, workers, maxTransfers);
        this.connections = new ConnectionCap("HTTP port", "http.maxConnections", limits.maxConnections(),
                metrics.registry().meter("cairn_http_connections_refused"));
        metrics.gauge("cairn_http_connections", connections::open);
    }

    /** Serves this port over TLS (call before {@link #start}); plain TCP otherwise. */
    public HttpApiServer tls(ServerTls serverTls) {
        this.tls = serverTls;
        return this;
    }

    public InetSocketAddress start(String host, int port) {
        serverChannel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                // The chunk protocol's pool: Netty's default one fell back to fresh memory for many
                // of a large upload's socket reads (WireAllocator).
                .childOption(ChannelOption.ALLOCATOR, WireAllocator.INSTANCE)
                // A client that ends its side early still gets an answer: the decoder marks the cut
                // body failed instead of the channel closing under the request.
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (!connections.admit(ch)) {
                            ch.close(); // before TLS and the codec: nothing of it is read
                            return;
                        }
                        tls.addTo(ch.pipeline());
                        ch.pipeline().addLast(new IdleStateHandler(limits.idle().toNanos(), 0, 0, TimeUnit.NANOSECONDS));
                        ch.pipeline().addLast(new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES, 64 * 1024));
                        ch.pipeline().addLast(new HttpServerExpectContinueHandler());
                        ch.pipeline().addLast(new SlowClientGuard(limits, clock));
                        ch.pipeline().addLast(new HttpRequestHandler(meta, store, metrics, transfers, auth));
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownNow();
    }
}
