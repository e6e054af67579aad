package dev.cairn.server.net;

import com.codahale.metrics.Timer;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.ProtocolException;
import dev.cairn.server.metrics.NodeMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.ByteBuffer;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import dev.cairn.server.auth.Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a protocol connection: decodes each frame body the length-field decoder
 * split off, hands the request to the workers, and writes the answer with the request's id. Owns
 * each frame's buffer from then on and releases it in one place, once the request is answered.
 */
final class FrameHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(FrameHandler.class);
    private static final CompletableFuture<Void> ANSWERED = CompletableFuture.completedFuture(null);

    private final RequestHandler handler;
    private final int maxFrameBytes;
    private final NodeMetrics metrics;
    private final Executor workers;
    /** This connection's principal, set by its AUTH frame; null until then. */
    private final AtomicReference<Principal> principal = new AtomicReference<>();

    /** @param workers where requests run: the store and the catalog may block, the event loop must not */
    FrameHandler(RequestHandler handler, int maxFrameBytes, NodeMetrics metrics, Executor workers) {
        this.handler = handler;
        this.maxFrameBytes = maxFrameBytes;
        this.metrics = metrics;
        this.workers = workers;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        metrics.received(Frame.LENGTH_FIELD_BYTES + buf.readableBytes());
        CompletableFuture<?> answered = ANSWERED;
        try {
            answered = answer(ctx, buf);
        } finally {
            // The one release of the request's bytes (chunk payloads among them): once it is
            // answered, i.e. after the handler, and the store's fsync, are done with them.
            answered.whenComplete((v, e) -> buf.release());
        }
    }

    /** Answers the frame in {@code buf}; completes once nothing needs its bytes any more. */
    private CompletableFuture<?> answer(ChannelHandlerContext ctx, ByteBuf buf) {
        Frame frame;
        try {
            frame = Frame.decodeBody(buf.nioBuffer(), maxFrameBytes);
        } catch (ProtocolException e) {
            refuse(ctx, buf, e);
            return ANSWERED;
        }
        if (frame.response()) {
            reply(ctx, frame.requestId(), RequestHandler.Response.error(ErrorCode.BAD_REQUEST,
                    "bad request: a response frame was sent to a server"));
            return ANSWERED;
        }
        Timer.Context timer = metrics.requestTimer(frame.type()).time();
        CompletableFuture<Void> answered = new CompletableFuture<>();
        workers.execute(() -> {
            CompletableFuture<RequestHandler.Response> response;
            try {
                response = handler.handle(frame, principal);
            } catch (RuntimeException e) {
                response = CompletableFuture.completedFuture(RequestHandler.toError(e));
            }
            response.whenComplete((r, e) -> {
                try {
                    reply(ctx, frame.requestId(), e == null ? r : RequestHandler.toError(e));
                } finally {
                    timer.stop();
                    answered.complete(null);
                }
            });
        });
        return answered;
    }

    /** A frame that does not decode: answered if it names a request id and a type this node lacks, else the end. */
    private void refuse(ChannelHandlerContext ctx, ByteBuf buf, ProtocolException e) {
        OptionalLong unknownType = Frame.requestIdOfUnknownType(buf.nioBuffer());
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
}
