package dev.cairn.server.net;

import dev.cairn.protocol.transport.WireAllocator;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.ProtocolException;
import dev.cairn.server.metrics.NodeMetrics;
import com.codahale.metrics.Timer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
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
    private final int maxFrameBytes;
    private final NodeMetrics metrics;
    private final EventLoopGroup bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workerGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ThreadPoolExecutor workers;
    private Channel serverChannel;

    public ProtocolServer(RequestHandler handler, int maxFrameBytes, NodeMetrics metrics) {
        this.handler = handler;
        this.maxFrameBytes = maxFrameBytes;
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        // Bounded queue; when it is full the event loop runs the request itself, which stops it
        // reading more from the sockets: back-pressure instead of unbounded memory.
        this.workers = new ThreadPoolExecutor(8, 8, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "cairn-request-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
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
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new IdleStateHandler(IDLE_SECONDS, 0, 0));
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(maxFrameBytes, 0, 4, 0, 4));
                        ch.pipeline().addLast(new FrameHandler());
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    private final class FrameHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            metrics.received(Frame.LENGTH_FIELD_BYTES + buf.readableBytes());
            Frame frame;
            try {
                frame = Frame.decodeBody(buf.nioBuffer(), maxFrameBytes);
            } catch (ProtocolException e) {
                java.util.OptionalLong unknownType = Frame.requestIdOfUnknownType(buf.nioBuffer());
                buf.release();
                if (unknownType.isPresent()) {
                    // A newer client's request: answer it and keep the connection, whose other
                    // requests (chunk reads and writes of the same put) this node does serve.
                    reply(ctx, unknownType.getAsLong(), RequestHandler.Response.error(ErrorCode.BAD_REQUEST,
                            e.getMessage() + ": this node runs an older build than the client; upgrade the node"));
                    return;
                }
                // Without a trustworthy request id there is nobody to answer: close cleanly.
                LOG.debug("closing {}: {}", ctx.channel().remoteAddress(), e.getMessage());
                ctx.close();
                return;
            }
            if (frame.response()) {
                buf.release();
                reply(ctx, frame.requestId(), RequestHandler.Response.error(ErrorCode.BAD_REQUEST,
                        "bad request: a response frame was sent to a server"));
                return;
            }
            Timer.Context timer = metrics.requestTimer(frame.type()).time();
            workers.execute(() -> {
                CompletableFuture<RequestHandler.Response> response;
                try {
                    response = handler.handle(frame);
                } catch (RuntimeException e) {
                    response = CompletableFuture.completedFuture(RequestHandler.toError(e));
                }
                response.whenComplete((r, e) -> {
                    // The request's bytes (chunk payloads among them) are released only here,
                    // after the handler, and the store's fsync, are done with them.
                    try {
                        reply(ctx, frame.requestId(), e == null ? r : RequestHandler.toError(e));
                    } finally {
                        timer.stop();
                        buf.release();
                    }
                });
            });
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException) {
                LOG.debug("closing {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
            } else {
                LOG.warn("closing {} after an error: {}", ctx.channel().remoteAddress(), cause.toString());
            }
            ctx.close();
        }
    }

    private void reply(ChannelHandlerContext ctx, long requestId, RequestHandler.Response r) {
        ByteBuf out;
        try {
            out = encode(ctx.alloc(), requestId, r);
        } catch (ProtocolException e) {
            out = encode(ctx.alloc(), requestId, RequestHandler.Response.error(ErrorCode.INTERNAL, "answer too large: " + e.getMessage()));
        }
        if (r.type() == MessageType.ERROR) {
            ErrorCode code = Messages.Error.decode(r.header()).code();
            metrics.error(code);
            if (code == ErrorCode.UNAVAILABLE) {
                metrics.metadataQuorumFailure(); // the metadata group has no majority (or no leader) for this request
            }
        }
        metrics.sent(out.readableBytes());
        ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    private ByteBuf encode(ByteBufAllocator alloc, long requestId, RequestHandler.Response r) {
        long payloadBytes = 0;
        for (ByteBuffer b : r.payload()) {
            payloadBytes += b.remaining();
        }
        ByteBuffer prefix = Frame.prefix(r.type(), true, requestId, r.header(), payloadBytes, maxFrameBytes);
        // One copy into a pooled direct buffer; a composite of heap buffers would be copied twice.
        ByteBuf out = alloc.directBuffer((int) (prefix.remaining() + payloadBytes));
        out.writeBytes(prefix);
        for (ByteBuffer b : r.payload()) {
            out.writeBytes(b.duplicate());
        }
        return out;
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
