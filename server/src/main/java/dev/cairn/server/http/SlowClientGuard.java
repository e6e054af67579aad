package dev.cairn.server.http;

import dev.cairn.config.HttpLimits;
import dev.cairn.engine.Clock;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends an HTTP connection whose client holds its transfer too long or too slowly, as
 * {@link TransferPace} decides, with a 408 while an answer can still be sent. Closing the
 * connection is what frees the transfer's worker: a put's body fails (nothing is committed), a
 * get's next write fails. Sits between the HTTP codec and the request handler, so it sees body
 * pieces in both directions.
 */
final class SlowClientGuard extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SlowClientGuard.class);

    private final HttpLimits limits;
    private final Clock clock;
    private TransferPace pace;
    private ScheduledFuture<?> ticks;
    private boolean requestStarted;
    private boolean bodyExpected;
    private boolean responseStarted;
    private boolean tripped;

    SlowClientGuard(HttpLimits limits, Clock clock) {
        this.limits = limits;
        this.clock = clock;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        pace = new TransferPace(limits, clock.nanoTime());
        // A quarter of the shortest limit: a limit is enforced at most a quarter late.
        long shortest = Math.min(limits.requestDeadline().toNanos(), Math.min(limits.rateWindow().toNanos(),
                limits.writeIdle().toNanos()));
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(TimeUnit.SECONDS.toNanos(1), shortest / 4));
        ticks = ctx.executor().scheduleAtFixedRate(() -> tick(ctx), period, period, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ticks != null) {
            ticks.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long now = clock.nanoTime();
        if (msg instanceof HttpRequest) {
            requestStarted = true;
            bodyExpected = true;
        }
        if (msg instanceof HttpContent content) {
            pace.moved(now, content.content().readableBytes(), false);
            if (content instanceof LastHttpContent) {
                bodyExpected = false;
            }
        }
        update(ctx, now);
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            bodyExpected = false; // the client can send nothing more: what is left is the node's answer
            update(ctx, clock.nanoTime());
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        update(ctx, clock.nanoTime());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (tripped) {
            // The 408 (or the close) has gone out: a worker's late answer must not follow it.
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        if (msg instanceof HttpResponse) {
            responseStarted = true;
        }
        if (msg instanceof HttpContent content && !promise.isVoid()) {
            int bytes = content.content().readableBytes();
            promise.addListener(f -> {
                if (f.isSuccess()) {
                    pace.moved(clock.nanoTime(), bytes, true);
                }
            });
        }
        ctx.write(msg, promise);
    }

    private void update(ChannelHandlerContext ctx, long now) {
        boolean owesBody = requestStarted && bodyExpected && !responseStarted && ctx.channel().config().isAutoRead();
        boolean owesRead = responseStarted && !ctx.channel().isWritable();
        pace.waitingOn(now, owesBody, owesRead);
    }

    private void tick(ChannelHandlerContext ctx) {
        if (tripped || !ctx.channel().isActive()) {
            return;
        }
        long now = clock.nanoTime();
        update(ctx, now);
        boolean nodeBusy = requestStarted && !bodyExpected && !responseStarted;
        TransferPace.Verdict verdict = pace.check(now, nodeBusy);
        if (verdict != TransferPace.Verdict.OK) {
            trip(ctx, verdict);
        }
    }

    private void trip(ChannelHandlerContext ctx, TransferPace.Verdict verdict) {
        LOG.info("HTTP client {} cut off: {}", ctx.channel().remoteAddress(), reason(verdict));
        if (!responseStarted && verdict != TransferPace.Verdict.WRITE_IDLE) {
            // Written past this handler, on the event loop: the flush puts it in the socket now.
            ctx.writeAndFlush(HttpResponses.json(HttpResponseStatus.REQUEST_TIMEOUT, HttpResponses.error(reason(verdict))));
        } else {
            // A reset, not a graceful close: the kernel would otherwise go on feeding the slow
            // reader the megabytes already in its send buffer, at the reader's pace.
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        }
        tripped = true;
        ticks.cancel(false);
        ctx.close();
    }

    private String reason(TransferPace.Verdict verdict) {
        return switch (verdict) {
            case DEADLINE -> "the request took longer than this node allows (http.requestDeadlineSeconds: "
                    + limits.requestDeadline().toSeconds() + "); nothing was stored: retry, or ask the operator to raise the limit";
            case TOO_SLOW -> "the transfer ran below this node's minimum of " + limits.minBytesPerSecond()
                    + " bytes/s for " + limits.rateWindow().toSeconds() + " s (http.minBytesPerSecond, http.rateWindowSeconds);"
                    + " nothing was stored: retry over a faster link";
            case WRITE_IDLE -> "the client read none of the answer for " + limits.writeIdle().toSeconds()
                    + " s (http.writeIdleSeconds)";
            case OK -> "no limit";
        };
    }
}
