package dev.cairn.server.net;

import static dev.cairn.server.net.Answers.done;
import static dev.cairn.server.net.Answers.io;

import dev.cairn.protocol.Frame;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.server.gc.GcCoordinator;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.net.RequestHandler.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The GC requests: arm, mark and sweep answered by this node's GC state (docs/gc.md), and a run
 * or its status answered by this node as the coordinator.
 */
final class GcRequests {

    private final GcNode gc;
    private final GcCoordinator coordinator;

    GcRequests(GcNode gc, GcCoordinator coordinator) {
        this.gc = gc;
        this.coordinator = coordinator;
    }

    Map<MessageType, Responder> responders() {
        Map<MessageType, Responder> r = new EnumMap<>(MessageType.class);
        r.put(MessageType.GC_ARM, this::arm);
        r.put(MessageType.GC_MARK, this::mark);
        r.put(MessageType.GC_SWEEP, this::sweep);
        r.put(MessageType.GC_RUN, this::run);
        r.put(MessageType.GC_STATUS, this::status);
        return r;
    }

    private CompletableFuture<Response> arm(Frame request) {
        // Answered only after the epoch is fsync'd: the coordinator begins the epoch on it.
        long epoch = GcMessages.decodeEpoch(request.header());
        io(() -> {
            gc.arm(epoch);
            return null;
        });
        return done(Response.of(request.type(), ByteBuffer.allocate(0)));
    }

    private CompletableFuture<Response> mark(Frame request) {
        GcMessages.Mark mark = GcMessages.Mark.decode(request.header());
        io(() -> gc.markLive(mark.epoch(), mark.ids()));
        return done(Response.of(request.type(), ByteBuffer.allocate(0)));
    }

    private CompletableFuture<Response> sweep(Frame request) {
        MessageType type = request.type();
        long epoch = GcMessages.decodeEpoch(request.header());
        return CompletableFuture.supplyAsync(() -> {
            try {
                return Response.of(type, gc.sweep(epoch).encode());
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        });
    }

    private CompletableFuture<Response> run(Frame request) {
        GcMessages.Run run = GcMessages.Run.decode(request.header());
        Duration wait = Duration.ofMillis(run.maxSessionWaitMillis());
        return (run.runId() == null ? coordinator.runAsync(wait) : coordinator.runAsync(wait, run.runId()))
                .thenApply(report -> Response.of(request.type(), report.encode()));
    }

    private CompletableFuture<Response> status(Frame request) {
        GcMessages.StatusRequest status = GcMessages.StatusRequest.decode(request.header());
        return done(Response.of(request.type(), coordinator.status(status.runId(), status.fromLine()).encode()));
    }
}
