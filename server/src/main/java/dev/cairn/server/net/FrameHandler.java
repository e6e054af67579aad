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
import java.util.ArrayDeque;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import dev.cairn.server.auth.Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a protocol connection: decodes each frame body the length-field decoder
 * split off, hands the request to the workers, and writes the answer with the request's id. Owns
 * each frame's buffer from then on and releases it in one place, once the request is answered.
 *
 * <p>Bounds the memory the connection can make the node hold: a request runs only when its bytes
 * (and, for a chunk read, the largest answer it may get) fit in the connection's budget and the
 * node's ({@link InFlightBudget}); they stay counted until its answer has been written to the
 * socket. While a request waits for room, or the client does not take its answers (the channel is
 * not writable), the connection is not read ({@code autoRead} off), so its bytes stay in the
 * client's socket, not in the node.
 */
final class FrameHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(FrameHandler.class);
    private static final CompletableFuture<Void> ANSWERED = CompletableFuture.completedFuture(null);

    private final RequestHandler handler;
    private final int maxFrameBytes;
    private final long maxConnectionBytes;
    private final InFlightBudget node;
    private final NodeMetrics metrics;
    private final Executor workers;
    // The fields below are touched on the connection's event loop only.
    /** Frames read but not yet admitted: at most what one read brought in, since reading stops while any wait. */
    private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
    private long connectionBytes;
    private boolean awaitingNodeRoom;
    private boolean admitting;
    /** This connection's principal, set by its AUTH frame; null until then. */
    private final AtomicReference<Principal> principal = new AtomicReference<>();

    /** What one request holds of the budgets: its own bytes and room for its answer. */
    private record Charge(long requestBytes, long answerAllowance) {
        long total() {
            return requestBytes + answerAllowance;
        }
    }

    /**
     * @param maxConnectionBytes this connection's budget ({@code limits.maxInFlightBytesPerConnection})
     * @param node the budget of all connections ({@code limits.maxInFlightBytes})
     * @param workers where requests run: the store and the catalog may block, the event loop must not
     */
    FrameHandler(RequestHandler handler, int maxFrameBytes, long maxConnectionBytes, InFlightBudget node,
                 NodeMetrics metrics, Executor workers) {
        this.handler = handler;
        this.maxFrameBytes = maxFrameBytes;
        this.maxConnectionBytes = maxConnectionBytes;
        this.node = node;
        this.metrics = metrics;
        this.workers = workers;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        metrics.received(Frame.LENGTH_FIELD_BYTES + buf.readableBytes());
        waiting.add(buf);
        admitWhatFits(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseWaiting();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseWaiting();
    }

    /** Runs the waiting requests, in order, while they fit; then reads on only if none is left waiting. */
    private void admitWhatFits(ChannelHandlerContext ctx) {
        if (admitting) {
            return; // an answer written at once settled inside the loop below, which goes on by itself
        }
        admitting = true;
        try {
            admitLoop(ctx);
        } finally {
            admitting = false;
        }
        updateReading(ctx);
    }

    private void admitLoop(ChannelHandlerContext ctx) {
        while (!waiting.isEmpty() && ctx.channel().isActive()) {
            Charge charge = chargeOf(waiting.peek());
            // A connection with nothing in flight always runs its next request: it fits its budget,
            // which is at least one frame, and progress never depends on another request's answer.
            if (connectionBytes > 0 && connectionBytes + charge.total() > maxConnectionBytes) {
                break; // woken when one of its own answers has been written
            }
            if (!node.tryReserve(charge.total())) {
                if (!awaitingNodeRoom) {
                    awaitingNodeRoom = true;
                    node.awaitRoom(charge.total(), () -> wakeOnEventLoop(ctx));
                }
                break;
            }
            connectionBytes += charge.total();
            admit(ctx, waiting.poll(), charge);
        }
    }

    /** Called by whichever connection released room: the waiting one goes on on its own event loop. */
    private void wakeOnEventLoop(ChannelHandlerContext ctx) {
        try {
            ctx.executor().execute(() -> {
                awaitingNodeRoom = false;
                admitWhatFits(ctx);
            });
        } catch (RejectedExecutionException e) {
            // The port is shutting down: nothing waits for this connection any more.
        }
    }

    private void updateReading(ChannelHandlerContext ctx) {
        boolean read = waiting.isEmpty() && ctx.channel().isWritable();
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read); // true also asks for the next read
        }
    }

    /**
     * A chunk read may be answered with up to a whole frame: that room is held from the start, a
     * frame in all (its small request is released as its answer is made), so a budget of four
     * frames holds a get's four batches of chunk reads.
     */
    private Charge chargeOf(ByteBuf buf) {
        long requestBytes = Frame.LENGTH_FIELD_BYTES + buf.readableBytes();
        boolean chunkRead = buf.isReadable() && buf.getUnsignedByte(buf.readerIndex()) == MessageType.GET_CHUNKS.code();
        return new Charge(requestBytes, chunkRead ? Math.max(0, maxFrameBytes - requestBytes) : 0);
    }

    /** Gives the charge back once the answer (of {@code answerBytes}) has left for the socket, or failed to. */
    private void settle(ChannelHandlerContext ctx, Charge charge, long extraBytes) {
        connectionBytes -= charge.total();
        node.release(charge.total() + extraBytes);
        admitWhatFits(ctx);
    }

    private void releaseWaiting() {
        for (ByteBuf buf = waiting.poll(); buf != null; buf = waiting.poll()) {
            buf.release();
        }
    }

    private void admit(ChannelHandlerContext ctx, ByteBuf buf, Charge charge) {
        CompletableFuture<?> answered = ANSWERED;
        try {
            answered = answer(ctx, buf, charge);
        } finally {
            // The one release of the request's bytes (chunk payloads among them): once it is
            // answered, i.e. after the handler, and the store's fsync, are done with them.
            answered.whenComplete((v, e) -> buf.release());
        }
    }

    /** Answers the frame in {@code buf}; completes once nothing needs its bytes any more. */
    private CompletableFuture<?> answer(ChannelHandlerContext ctx, ByteBuf buf, Charge charge) {
        Frame frame;
        try {
            frame = Frame.decodeBody(buf.nioBuffer(), maxFrameBytes);
        } catch (ProtocolException e) {
            refuse(ctx, buf, e, charge);
            return ANSWERED;
        }
        if (frame.response()) {
            reply(ctx, frame.requestId(), RequestHandler.Response.error(ErrorCode.BAD_REQUEST,
                    "bad request: a response frame was sent to a server"), charge);
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
                    reply(ctx, frame.requestId(), e == null ? r : RequestHandler.toError(e), charge);
                } finally {
                    timer.stop();
                    answered.complete(null);
                }
            });
        });
        return answered;
    }

    /** A frame that does not decode: answered if it names a request id and a type this node lacks, else the end. */
    private void refuse(ChannelHandlerContext ctx, ByteBuf buf, ProtocolException e, Charge charge) {
        OptionalLong unknownType = Frame.requestIdOfUnknownType(buf.nioBuffer());
        if (unknownType.isPresent()) {
            // A newer client's request: answer it and keep the connection, whose other
            // requests (chunk reads and writes of the same put) this node does serve.
            reply(ctx, unknownType.getAsLong(), RequestHandler.Response.error(ErrorCode.BAD_REQUEST,
                    e.getMessage() + ": this node runs an older build than the client; upgrade the node"), charge);
            return;
        }
        // Without a trustworthy request id there is nobody to answer: close cleanly.
        LOG.debug("closing {}: {}", ctx.channel().remoteAddress(), e.getMessage());
        ctx.close();
        settle(ctx, charge, 0);
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

    /**
     * Writes the answer, even to a client that is not taking its answers (the request was admitted
     * and must be answered); such a client is no longer read, so no further answers pile up.
     */
    private void reply(ChannelHandlerContext ctx, long requestId, RequestHandler.Response r, Charge charge) {
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
        int answerBytes = out.readableBytes();
        metrics.sent(answerBytes);
        // The answer is held by the node until it is written: counted beyond the room its request kept for it.
        long extra = Math.max(0, answerBytes - charge.answerAllowance());
        node.add(extra);
        ctx.writeAndFlush(out).addListener((ChannelFutureListener) f -> {
            settle(ctx, charge, extra);
            if (!f.isSuccess()) {
                ctx.close();
            }
        });
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
