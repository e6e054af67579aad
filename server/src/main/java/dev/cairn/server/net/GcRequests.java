package dev.cairn.server.net;

import static dev.cairn.server.net.Answers.done;
import static dev.cairn.server.net.Answers.io;

import dev.cairn.protocol.Frame;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.server.gc.EpochGuard;
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
 * The GC requests: arm, mark and sweep answered by this node's GC state once its catalog replica
 * shows the catalog decided them (docs/gc.md), and a run or its status answered by this node as
 * the coordinator.
 */
final class GcRequests {

    private final GcNode gc;
    private final GcCoordinator coordinator;
    private final EpochGuard guard;

    GcRequests(GcNode gc, GcCoordinator coordinator, EpochGuard guard) {
        this.gc = gc;
        this.coordinator = coordinator;
        this.guard = guard;
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
        // Only the epoch the catalog begins next; answered only after the epoch is fsync'd: the
        // coordinator begins the epoch on it.
        MessageType type = request.type();
        long epoch = GcMessages.decodeEpoch(request.header());
        return guard.mayArm(epoch).thenApply(allowed -> {
            io(() -> {
                gc.arm(epoch);
                return null;
            });
            return Response.of(type, ByteBuffer.allocate(0));
        });
    }

    private CompletableFuture<Response> mark(Frame request) {
        GcMessages.Mark mark = GcMessages.Mark.decode(request.header());
        io(() -> gc.markLive(mark.epoch(), mark.ids()));
        return done(Response.of(request.type(), ByteBuffer.allocate(0)));
    }

    private CompletableFuture<Response> sweep(Frame request) {
        MessageType type = request.type();
        long epoch = GcMessages.decodeEpoch(request.header());
        // Only an epoch this node's catalog replica shows as begun and cleared to sweep.
        return guard.maySweep(epoch).thenApplyAsync(allowed -> {
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
