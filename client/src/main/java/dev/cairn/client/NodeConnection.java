package dev.cairn.client;

import dev.cairn.protocol.transport.ClientTls;
import dev.cairn.protocol.transport.FrameAssembler;
import dev.cairn.protocol.transport.WireAllocator;
import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.MessageType;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One pipelined connection to one node: many requests in flight, answers matched by request id.
 * A lost connection fails every request in flight; the next call reconnects.
 */
final class NodeConnection implements AutoCloseable {

    /** A successful answer: header and payload copied out of the network buffer. */
    record Reply(ByteBuffer header, ByteBuffer payload) {}

    private final String nodeId;
    private final String host;
    private final int port;
    private final int maxFrameBytes;
    private final Duration timeout;
    private final EventLoopGroup group;
    /** Presented in an AUTH frame right after each connect, before any other request; null for none. */
    private final String token;
    private final ClientTls tls;
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final Map<Long, CompletableFuture<Reply>> inFlight = new ConcurrentHashMap<>();
    private final Object connectLock = new Object();
    private volatile Channel channel;
    private volatile boolean closed;

    NodeConnection(String nodeId, String host, int port, int maxFrameBytes, Duration timeout, EventLoopGroup group) {
        this(nodeId, host, port, maxFrameBytes, timeout, group, null, ClientTls.OFF);
    }

    NodeConnection(String nodeId, String host, int port, int maxFrameBytes, Duration timeout, EventLoopGroup group,
                   String token, ClientTls tls) {
        this.token = token;
        this.tls = tls;
        this.nodeId = nodeId;
        this.host = host;
        this.port = port;
        this.maxFrameBytes = maxFrameBytes;
        this.timeout = timeout;
        this.group = group;
    }

    String nodeId() {
        return nodeId;
    }

    String endpoint() {
        return host + ":" + port;
    }

    /** True while the connection is open: a call needs no connect. */
    boolean isConnected() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    /**
     * Sends a request whose payload is the given buffers back to back (not copied). The future
     * fails with {@link RemoteError} for an ERROR answer and with an IOException when the node
     * cannot be reached or does not answer in time.
     */
    CompletableFuture<Reply> call(MessageType type, ByteBuffer header, List<ByteBuffer> payload) {
        return call(type, header, payload, timeout);
    }

    /** As above, with its own time limit (admin requests that run a whole pass take long). */
    CompletableFuture<Reply> call(MessageType type, ByteBuffer header, List<ByteBuffer> payload, Duration timeout) {
        Channel ch;
        try {
            ch = connected();
        } catch (IOException | RemoteError e) {
            return CompletableFuture.failedFuture(e);
        }
        long requestId = nextRequestId.getAndIncrement();
        long payloadBytes = 0;
        for (ByteBuffer b : payload) {
            payloadBytes += b.remaining();
        }
        ByteBuffer prefix;
        try {
            prefix = Frame.prefix(type, false, requestId, header, payloadBytes, maxFrameBytes);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        // One copy, straight into a pooled direct buffer (WireAllocator): a composite of heap buffers
        // would be flattened into a fresh heap buffer and then copied again into a direct one by the socket.
        ByteBuf frame = ch.alloc().directBuffer((int) (prefix.remaining() + payloadBytes));
        frame.writeBytes(prefix);
        for (ByteBuffer b : payload) {
            frame.writeBytes(b.duplicate());
        }
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        inFlight.put(requestId, reply);
        ch.writeAndFlush(frame).addListener(f -> {
            if (!f.isSuccess()) {
                fail(requestId, new Failures.NodeUnreachable(nodeId, endpoint(), Failures.cause(f.cause()), f.cause()));
            }
        });
        var timer = ch.eventLoop().schedule(() -> fail(requestId, new Failures.NodeUnreachable(nodeId, endpoint(),
                "no answer within " + seconds(timeout), null)), timeout.toMillis(), TimeUnit.MILLISECONDS);
        // Answered requests drop their timer, so a long put does not keep thousands of them queued.
        reply.whenComplete((r, e) -> timer.cancel(false));
        return reply;
    }

    CompletableFuture<Reply> call(MessageType type, ByteBuffer header) {
        return call(type, header, List.of());
    }

    /** "30 s", or "500 ms" for a limit under a second. */
    private static String seconds(Duration d) {
        return d.toSeconds() > 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private void fail(long requestId, Throwable cause) {
        CompletableFuture<Reply> f = inFlight.remove(requestId);
        if (f != null) {
            f.completeExceptionally(cause);
        }
    }

    private Channel connected() throws IOException, RemoteError {
        Channel ch = channel;
        if (ch != null && ch.isActive()) {
            return ch;
        }
        synchronized (connectLock) {
            if (closed) {
                throw new IOException("connection to node " + nodeId + " is closed");
            }
            ch = channel;
            if (ch != null && ch.isActive()) {
                return ch;
            }
            Bootstrap bootstrap = new Bootstrap()
                    .group(group)
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                    .option(ChannelOption.ALLOCATOR, WireAllocator.INSTANCE)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            tls.addTo(c.pipeline(), host, port);
                            c.pipeline().addLast(new FrameAssembler(maxFrameBytes));
                            c.pipeline().addLast(new ReplyHandler());
                        }
                    });
            try {
                ch = bootstrap.connect(host, port).syncUninterruptibly().channel();
                ClientTls.awaitHandshake(ch, timeout);
            } catch (Exception e) {
                throw new Failures.NodeUnreachable(nodeId, endpoint(), Failures.cause(e), e);
            }
            Channel opened = ch;
            ch.closeFuture().addListener(f -> failAll(opened));
            if (token != null) {
                authenticate(ch);
            }
            channel = ch;
            return ch;
        }
    }

    /**
     * Sends the token in an AUTH frame and waits for the answer, so that no request of this
     * connection reaches the node's workers before the connection is authenticated (the node
     * runs a connection's requests concurrently). A refusal closes the connection.
     */
    private void authenticate(Channel ch) throws IOException, RemoteError {
        long requestId = nextRequestId.getAndIncrement();
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        inFlight.put(requestId, reply);
        ByteBuffer header = AuthMessages.encodeString(token);
        ByteBuffer prefix = Frame.prefix(MessageType.AUTH, false, requestId, header, 0, maxFrameBytes);
        ch.writeAndFlush(ch.alloc().directBuffer(prefix.remaining()).writeBytes(prefix));
        try {
            reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            ch.close();
            if (e.getCause() instanceof RemoteError refused) {
                throw refused;
            }
            throw new Failures.NodeUnreachable(nodeId, endpoint(), Failures.cause(e.getCause()), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            ch.close();
            throw new Failures.NodeUnreachable(nodeId, endpoint(), "no answer to authentication within " + seconds(timeout), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ch.close();
            throw new IOException("interrupted while authenticating to node " + nodeId, e);
        } finally {
            inFlight.remove(requestId);
        }
    }

    private void failAll(Channel lost) {
        if (channel == lost) {
            channel = null;
        }
        for (Long id : List.copyOf(inFlight.keySet())) {
            fail(id, new Failures.NodeUnreachable(nodeId, endpoint(), "connection closed", null));
        }
    }

    @Override
    public void close() {
        closed = true;
        Channel ch = channel;
        if (ch != null) {
            ch.close().syncUninterruptibly();
        }
    }

    /** Completes each answer's request; the answer's bytes are a heap array {@link FrameAssembler} filled. */
    private final class ReplyHandler extends SimpleChannelInboundHandler<byte[]> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, byte[] msg) {
            Frame frame = Frame.decodeBody(ByteBuffer.wrap(msg), maxFrameBytes);
            CompletableFuture<Reply> f = inFlight.remove(frame.requestId());
            if (f == null) {
                return; // timed out already
            }
            if (frame.type() == MessageType.ERROR) {
                Messages.Error error = Messages.Error.decode(frame.header());
                f.completeExceptionally(new RemoteError(nodeId, error.code(), error.message()));
            } else {
                f.complete(new Reply(frame.header(), frame.payload()));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** An ERROR answer from a node. */
    static final class RemoteError extends Exception {
        private final String nodeId;
        private final ErrorCode code;

        RemoteError(String nodeId, ErrorCode code, String message) {
            super(message);
            this.nodeId = nodeId;
            this.code = code;
        }

        String nodeId() {
            return nodeId;
        }

        ErrorCode code() {
            return code;
        }
    }
}
