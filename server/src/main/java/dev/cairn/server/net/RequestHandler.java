package dev.cairn.server.net;

import dev.cairn.config.NodeConfig;
import dev.cairn.engine.ImageName;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.LocalChunks;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.ProtocolException;
import dev.cairn.server.gc.EpochGuard;
import dev.cairn.protocol.AuthMessages;
import dev.cairn.server.auth.AuthException;
import dev.cairn.server.auth.Authenticator;
import dev.cairn.server.auth.Principal;
import dev.cairn.server.auth.RequestGuard;
import dev.cairn.server.gc.GcCoordinator;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.meta.CatalogException;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.replication.ClientTraffic;
import dev.cairn.server.replication.Replicator;
import dev.cairn.server.store.ChunkCorruptException;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreFailedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a node does with each request: finds the responder of the request's type (chunk requests
 * go to the local chunk store, catalog requests to the Raft metadata service, and so on: one class
 * per area) and turns every failure into an ERROR answer with the code a client acts on. Knows
 * messages, not sockets.
 */
public final class RequestHandler {

    /** A response ready to send: header and payload buffers, or an error. */
    public record Response(MessageType type, ByteBuffer header, List<ByteBuffer> payload) {
        static Response of(MessageType type, ByteBuffer header) {
            return new Response(type, header, List.of());
        }

        static Response error(ErrorCode code, String message) {
            return new Response(MessageType.ERROR, new Messages.Error(code, message).encode(), List.of());
        }
    }

    private final ChunkStore store;
    private final MetaService meta;
    private final ChunkRequests chunks;
    /** Who sends each request: checked once per request against this node's catalog replica. */
    private final Authenticator authenticator;
    /** Every request type's responder, built once. */
    private final Map<MessageType, Responder> responders;

    public RequestHandler(NodeConfig config, ChunkStore store, MetaService meta, Replicator replicator, GcNode gc,
                          GcCoordinator coordinator, NodeMetrics metrics, ClientTraffic clientTraffic) {
        this.store = store;
        this.meta = meta;
        this.chunks = new ChunkRequests(config, store, gc, clientTraffic);
        this.authenticator = Authenticator.start(config.auth(), meta, config.nodeId());
        Map<MessageType, Responder> all = new EnumMap<>(MessageType.class);
        register(all, chunks.responders());
        register(all, new CatalogRequests(meta, metrics).responders());
        register(all, new MembershipRequests(config, meta).responders());
        register(all, new GcRequests(gc, coordinator, EpochGuard.of(config.nodeId(), meta)).responders());
        register(all, new NodeRequests(meta, store, replicator).responders());
        register(all, new TokenRequests(meta).responders());
        register(all, new QuotaRequests(meta).responders());
        this.responders = Collections.unmodifiableMap(all);
    }

    private static void register(Map<MessageType, Responder> all, Map<MessageType, Responder> area) {
        area.forEach((type, responder) -> {
            if (all.putIfAbsent(type, responder) != null) {
                throw new IllegalStateException("two responders for " + type);
            }
        });
    }

    /** The request types this node answers: every type but ERROR (AUTH is answered before the responders). */
    Set<MessageType> answeredTypes() {
        Set<MessageType> all = java.util.EnumSet.of(MessageType.AUTH);
        all.addAll(responders.keySet());
        return all;
    }

    /**
     * Handles one request frame. The frame's buffers stay valid until the returned future
     * completes; the caller releases them then.
     */
    public CompletableFuture<Response> handle(Frame request) {
        return handle(request, new AtomicReference<>());
    }

    /**
     * As {@link #handle(Frame)}, for a request of a connection whose principal is in
     * {@code connection} (null until an AUTH frame set it): AUTH sets it, every other request runs
     * only if {@link RequestGuard} admits it for that principal as this node knows it now.
     */
    public CompletableFuture<Response> handle(Frame request, AtomicReference<Principal> connection) {
        try {
            if (request.type() == MessageType.AUTH) {
                connection.set(authenticator.authenticate(AuthMessages.decodeString(request.header(), "access token")));
                return CompletableFuture.completedFuture(Response.of(request.type(), ByteBuffer.allocate(0)));
            }
            Principal principal = authenticator.current(connection.get());
            Frame admitted = RequestGuard.admit(principal, request);
            return dispatch(admitted, principal).exceptionally(this::toNodeError);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(toError(e));
        }
    }

    private CompletableFuture<Response> dispatch(Frame request, Principal principal) {
        Responder responder = responders.get(request.type());
        if (responder == null) {
            // Every request type has a responder (RequestHandlerTest checks): what is left only answers.
            throw new ProtocolException("an " + request.type() + " frame is not a request");
        }
        return responder.answer(request, principal);
    }

    /**
     * This node's chunk reads for the client inside it (the HTTP gateway), in process: the same
     * answers as GET_CHUNKS, with no frame limit, and counted as client traffic too.
     */
    public LocalChunks localChunks() {
        return chunks.localChunks();
    }

    /**
     * A test seam: holds back every GET_CHUNKS answer of this node by {@code delay} (without
     * blocking a worker), and every read of its own gateway in process (blocking the reading
     * thread), to play a node that is slow or stalled for reads.
     */
    public void delayChunkReads(Duration delay) {
        chunks.delayChunkReads(delay);
    }

    /** Like {@link #toError}, naming this node when its disk failed. */
    private Response toNodeError(Throwable t) {
        return Answers.unwrapped(t) instanceof ChunkStoreFailedException
                ? Response.error(ErrorCode.STORAGE_FAILED, chunks.diskFailedMessage()) : toError(t);
    }

    /** Maps a failure to the error code and message a client acts on. */
    static Response toError(Throwable t) {
        t = Answers.unwrapped(t);
        if (t instanceof AuthException a) {
            return Response.error(a.code(), a.getMessage());
        }
        if (t instanceof CatalogException c) {
            return Response.error(switch (c.code()) {
                case NOT_FOUND -> ErrorCode.NOT_FOUND;
                case EXISTS -> ErrorCode.EXISTS;
                case UNAVAILABLE -> ErrorCode.UNAVAILABLE;
                case INVALID -> ErrorCode.BAD_REQUEST;
                case BUSY -> ErrorCode.UNAVAILABLE;
                case SESSION_EXPIRED -> ErrorCode.SESSION_EXPIRED;
                case QUOTA_EXCEEDED -> ErrorCode.QUOTA_EXCEEDED;
                case IN_USE -> ErrorCode.IN_USE;
            }, c.getMessage());
        }
        if (t instanceof ImageName.InvalidNameException) {
            return Response.error(ErrorCode.INVALID_NAME, t.getMessage());
        }
        if (t instanceof IllegalStateException) {
            return Response.error(ErrorCode.BAD_REQUEST, t.getMessage());
        }
        if (t instanceof ProtocolException || t instanceof IllegalArgumentException) {
            return Response.error(ErrorCode.BAD_REQUEST, "bad request: " + t.getMessage());
        }
        if (t instanceof ChunkCorruptException) {
            return Response.error(ErrorCode.CORRUPT_CHUNK, t.getMessage());
        }
        if (t instanceof IOException) {
            return Response.error(ErrorCode.STORAGE_FAILED, "storage failed: " + t.getMessage());
        }
        return Response.error(ErrorCode.INTERNAL, "internal error: " + t);
    }

    /** How this node authenticates: the HTTP API checks its callers with it too, and the node's own clients take its token. */
    public Authenticator authenticator() {
        return authenticator;
    }

    /** Exposed for the HTTP API, which answers from the same sources. */
    public MetaService meta() {
        return meta;
    }

    public ChunkStore store() {
        return store;
    }
}
