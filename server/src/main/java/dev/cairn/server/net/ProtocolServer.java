package dev.cairn.server.net;

import dev.cairn.config.Limits;
import dev.cairn.protocol.transport.ServerTls;
import dev.cairn.protocol.transport.WireAllocator;
import dev.cairn.server.metrics.NodeMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's Cairn protocol port. Netty splits the byte stream at the length field and enforces
 * the frame limit; each frame is handed to a worker pool (the store and the catalog may block),
 * so requests of one connection run concurrently and are answered by request id.
 */
public final class ProtocolServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProtocolServer.class);

    /** A connection that sends nothing for this long is closed. */
    static final int IDLE_SECONDS = 300;

    private final RequestHandler handler;
    private final Limits limits;
    private final NodeMetrics metrics;
    private final InFlightBudget budget;
    private final ConnectionCap connections;
    private final EventLoopGroup bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workerGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ThreadPoolExecutor workers;
    private Channel serverChannel;
    private ServerTls tls = ServerTls.OFF;

    public ProtocolServer(RequestHandler handler, Limits limits, NodeMetrics metrics) {
        this.handler = handler;
        this.limits = limits;
        this.metrics = metrics;
        this.budget = new InFlightBudget(limits.maxInFlightBytes());
        this.connections = new ConnectionCap("protocol port", "limits.maxConnections", limits.maxConnections(),
                metrics.registry().meter("cairn_net_connections_refused"));
        metrics.gauge("cairn_net_in_flight_bytes", budget::usedBytes);
        metrics.gauge("cairn_net_connections", connections::open);
        AtomicInteger n = new AtomicInteger();
        // Bounded queue; when it is full the event loop runs the request itself, which stops it
        // reading more from the sockets: back-pressure instead of unbounded memory.
        this.workers = new ThreadPoolExecutor(8, 8, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "cairn-request-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    }

    /** Serves this port over TLS (call before {@link #start}); plain TCP otherwise. */
    public ProtocolServer tls(ServerTls serverTls) {
        this.tls = serverTls;
        return this;
    }

    public InetSocketAddress start(String host, int port) {
        serverChannel = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Pooled buffers that hold a whole frame: the decoder gathers each request in one,
                // and each answer is copied into one (WireAllocator says why).
                .childOption(ChannelOption.ALLOCATOR, WireAllocator.INSTANCE)
                // A connection turns unwritable once a frame's worth of answers waits for the
                // client; FrameHandler then stops reading it until the client takes them.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(limits.maxFrameBytes() / 2, limits.maxFrameBytes()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (!connections.admit(ch)) {
                            ch.close();
                            return;
                        }
                        tls.addTo(ch.pipeline());
                        int maxFrameBytes = limits.maxFrameBytes();
                        ch.pipeline().addLast(new IdleStateHandler(IDLE_SECONDS, 0, 0));
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(maxFrameBytes, 0, 4, 0, 4));
                        ch.pipeline().addLast(new FrameHandler(handler, maxFrameBytes,
                                limits.maxInFlightBytesPerConnection(), budget, metrics, workers));
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** Request and answer bytes the port holds now, all connections together. */
    public long inFlightBytes() {
        return budget.usedBytes();
    }

    /** Protocol connections open now. */
    public int openConnections() {
        return connections.open();
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdown();
    }
}
