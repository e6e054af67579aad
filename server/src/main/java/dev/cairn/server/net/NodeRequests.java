package dev.cairn.server.net;

import static dev.cairn.server.net.Answers.done;

import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.ReplicationMessages;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.MetaStatus;
import dev.cairn.server.net.RequestHandler.Response;
import dev.cairn.server.replication.Replicator;
import dev.cairn.server.store.ChunkStore;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The operator's requests about this one node: its status, and its repair and scrub passes. */
final class NodeRequests {

    private final MetaService meta;
    private final ChunkStore store;
    private final Replicator replicator;

    NodeRequests(MetaService meta, ChunkStore store, Replicator replicator) {
        this.meta = meta;
        this.store = store;
        this.replicator = replicator;
    }

    Map<MessageType, Responder> responders() {
        Map<MessageType, Responder> r = new EnumMap<>(MessageType.class);
        r.put(MessageType.NODE_STATUS, this::status);
        r.put(MessageType.REPAIR, this::repair);
        r.put(MessageType.SCRUB, request -> replicator.scrubAsync()
                .thenApply(report -> Response.of(request.type(), report.encode())));
        return r;
    }

    private CompletableFuture<Response> status(Frame request) {
        MetaStatus s = meta.status();
        return done(Response.of(request.type(), new Messages.NodeStatus(s.nodeId(), s.role(), s.term(), s.leaderId(),
                s.commitIndex(), s.appliedIndex(), store.chunkCount(), store.storedBytes()).encode()));
    }

    private CompletableFuture<Response> repair(Frame request) {
        ReplicationMessages.RepairMode mode = ReplicationMessages.decodeMode(request.header());
        return (mode == ReplicationMessages.RepairMode.RUN ? replicator.repairAsync()
                : CompletableFuture.completedFuture(replicator.lastReport()))
                .thenApply(report -> Response.of(request.type(), report.encode()));
    }
}
