package dev.cairn.server.net;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.ChunkMessages;
import dev.cairn.protocol.LocalChunks;
import dev.cairn.config.ConfigException;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.protocol.MembershipMessages;
import dev.cairn.server.meta.Membership;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.ImageName;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.ProtocolException;
import dev.cairn.protocol.ReplicationMessages;
import dev.cairn.server.gc.GcCoordinator;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.replication.ClientTraffic;
import dev.cairn.server.replication.Replicator;
import dev.cairn.server.meta.CatalogException;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.MetaStatus;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkCorruptException;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreFailedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What a node does with each request: chunk requests go to the local chunk store, catalog
 * requests to the Raft metadata service. Knows messages, not sockets.
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

    private final NodeConfig config;
    private final ChunkStore store;
    private final MetaService meta;
    private final Replicator replicator;
    private final GcNode gc;
    private final GcCoordinator coordinator;
    private final NodeMetrics metrics;
    /** Puts and gets of chunks, so that the node's scheduled repair passes can yield to them. */
    private final ClientTraffic clientTraffic;
    /**
     * Chunks this node answered "corrupt" for recently: a reader that then sends a verified copy
     * (read-repair) replaces the bad one, which a plain append would keep as "already present".
     * Bounded; a chunk that falls out is left to scrub.
     */
    private final Set<ChunkId> corruptSeen = Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ChunkId, Boolean> eldest) {
            return size() > MAX_CORRUPT_REMEMBERED;
        }
    });
    /** A test seam: how long GET_CHUNKS answers are held back, to play a slow or stalled node. */
    private volatile Duration chunkReadDelay = Duration.ZERO;

    static final int MAX_CORRUPT_REMEMBERED = 4096;

    public RequestHandler(NodeConfig config, ChunkStore store, MetaService meta, Replicator replicator, GcNode gc,
                          GcCoordinator coordinator, NodeMetrics metrics, ClientTraffic clientTraffic) {
        this.metrics = metrics;
        this.clientTraffic = clientTraffic;
        this.config = config;
        this.store = store;
        this.meta = meta;
        this.replicator = replicator;
        this.gc = gc;
        this.coordinator = coordinator;
    }

    /**
     * The members this node's catalog replica holds; before the membership is seeded (or on a
     * joining node that is not yet in the group), the nodes of its config, all active.
     */
    private Membership membership() {
        try {
            Membership m = meta.membership();
            if (m.isSeeded()) {
                return m;
            }
        } catch (CatalogException e) {
            // not (yet) a member of the group: answer from the config
        }
        return new Membership(0, config.nodes().stream().map(n -> new MembershipMessages.Member(n.id(), n.host(), n.port(),
                n.raftPort(), n.httpPort(), n.zone(), MembershipMessages.MemberState.ACTIVE)).toList());
    }

    private Messages.ClusterInfo clusterInfo() {
        Membership m = membership();
        List<Messages.Peer> peers = new ArrayList<>();
        m.members().forEach(n -> peers.add(new Messages.Peer(n.id(), n.host(), n.port(), n.httpPort(), n.zone(), n.state())));
        return new Messages.ClusterInfo(config.nodeId(), config.quorum().replicas(), config.quorum().writeQuorum(),
                config.quorum().readQuorum(), peers, m.index());
    }

    /**
     * Handles one request frame. The frame's buffers stay valid until the returned future
     * completes; the caller releases them then.
     */
    public CompletableFuture<Response> handle(Frame request) {
        try {
            return dispatch(request).exceptionally(this::toNodeError);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(toError(e));
        }
    }

    private CompletableFuture<Response> dispatch(Frame request) {
        MessageType type = request.type();
        return switch (type) {
            case CLUSTER_INFO -> done(Response.of(type, clusterInfo().encode()));
            case MEMBERS -> {
                Membership m = membership();
                List<String> raftPeers;
                try {
                    raftPeers = meta.raftPeers();
                } catch (CatalogException e) {
                    raftPeers = List.of(); // a joining node that is not in the group yet
                }
                yield done(Response.of(type, new MembershipMessages.MemberList(m.index(), m.members(), raftPeers).encode()));
            }
            case ADD_NODE -> {
                MembershipMessages.Member add = MembershipMessages.Member.decode(request.header());
                NodeAddress address;
                try {
                    address = new NodeAddress(add.id(), add.host(), add.port(), add.raftPort(), add.httpPort(), add.zone());
                } catch (ConfigException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
                yield meta.addMember(address).thenApply(i -> Response.of(type, Messages.encodeLong(i)));
            }
            case REMOVE_NODE -> {
                MembershipMessages.RemoveNode remove = MembershipMessages.RemoveNode.decode(request.header());
                CompletableFuture<Long> index = remove.phase() == MembershipMessages.RemovePhase.MARK_LEAVING
                        ? meta.markLeaving(remove.id()) : meta.dropMember(remove.id());
                yield index.thenApply(i -> Response.of(type, Messages.encodeLong(i)));
            }
            case HAS_CHUNKS -> {
                // A "present" answer marks the chunk with the marking epoch first (docs/gc.md step 1).
                int[] storedLengths = io(() -> gc.has(ChunkMessages.decodeIds(request.header())));
                yield done(Response.of(type, ChunkMessages.encodePresence(storedLengths)));
            }
            case PUT_CHUNKS -> {
                List<ChunkData> chunks = ChunkMessages.decodeChunks(request.header(), request.payload(),
                        config.limits().maxChunkBytes());
                yield storeChunks(chunks).thenApply(v -> Response.of(type, ByteBuffer.allocate(0)));
            }
            case PUT_PACKS -> {
                List<ChunkPack> packs = ChunkMessages.decodePacks(request.header(), request.payload(),
                        config.limits().maxChunkBytes());
                yield storePacks(packs).thenApply(v -> Response.of(type, ByteBuffer.allocate(0)));
            }
            case GET_CHUNKS -> {
                clientTraffic.record();
                List<ChunkId> ids = ChunkMessages.decodeIds(request.header());
                Duration delay = chunkReadDelay;
                yield delay.isZero() ? done(getChunks(ids)) : CompletableFuture.supplyAsync(() -> getChunks(ids),
                        CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS));
            }
            case COMMIT_IMAGE -> {
                ImageMessages.CommitImage commit = ImageMessages.CommitImage.decode(request.header());
                // With the caller's call id, a retry after a lost reply gets the first result.
                CompletableFuture<Long> index;
                if (commit.session() != null) {
                    if (commit.call() == null) {
                        throw new ProtocolException("a commit in an upload session must carry a call id");
                    }
                    index = meta.commitImage(commit.name(), commit.root(), commit.session(), commit.call().clientId(),
                            commit.call().callId(), commit.closesSession());
                } else {
                    index = commit.call() == null ? meta.commitImage(commit.name(), commit.root())
                            : meta.commitImage(commit.name(), commit.root(), commit.call().clientId(), commit.call().callId());
                }
                yield index.thenApply(i -> {
                    if (commit.newStoredBytes() != ImageMessages.CommitImage.UNKNOWN) {
                        metrics.putCommitted(commit.root().logicalBytes(), commit.newStoredBytes());
                    }
                    return Response.of(type, Messages.encodeLong(i));
                });
            }
            case GET_IMAGE -> {
                ImageMessages.GetImage get = ImageMessages.GetImage.decode(request.header());
                if (get.minIndex() != ImageMessages.LINEARIZABLE) {
                    yield meta.getImageAtLeast(get.name(), get.minIndex()).thenApply(read -> sessionAnswer(type, read));
                }
                yield meta.getImage(get.name()).thenApply(found -> found
                        .map(info -> Response.of(type, ImageMessages.encodeImages(List.of(info))))
                        .orElseGet(() -> Response.of(type, ImageMessages.encodeImages(List.of()))));
            }
            case LIST_IMAGES -> {
                ImageMessages.ListImages list = ImageMessages.ListImages.decode(request.header());
                if (list.minIndex() != ImageMessages.LINEARIZABLE) {
                    yield meta.listImagesAtLeast(list.prefix(), list.limit(), list.minIndex())
                            .thenApply(read -> sessionAnswer(type, read));
                }
                yield meta.listImages(list.prefix(), list.limit()).thenApply(images -> Response.of(type, ImageMessages.encodeImages(images)));
            }
            case DELETE_IMAGE -> {
                ImageMessages.DeleteImage delete = ImageMessages.DeleteImage.decode(request.header());
                CompletableFuture<Long> index = delete.call() == null ? meta.deleteImage(delete.name())
                        : meta.deleteImage(delete.name(), delete.call().clientId(), delete.call().callId());
                yield index.thenApply(i -> Response.of(type, Messages.encodeLong(i)));
            }
            case NODE_STATUS -> {
                MetaStatus s = meta.status();
                yield done(Response.of(type, new Messages.NodeStatus(s.nodeId(), s.role(), s.term(), s.leaderId(),
                        s.commitIndex(), s.appliedIndex(), store.chunkCount(), store.storedBytes()).encode()));
            }
            case REPAIR -> {
                ReplicationMessages.RepairMode mode = ReplicationMessages.decodeMode(request.header());
                yield (mode == ReplicationMessages.RepairMode.RUN ? replicator.repairAsync()
                        : CompletableFuture.completedFuture(replicator.lastReport()))
                        .thenApply(report -> Response.of(type, report.encode()));
            }
            case SCRUB -> replicator.scrubAsync().thenApply(report -> Response.of(type, report.encode()));
            case OPEN_SESSION -> {
                GcMessages.OpenSession open = GcMessages.OpenSession.decode(request.header());
                yield meta.openSession(open.sessionId(), open.clientId(), java.time.Duration.ofMillis(open.leaseMillis()))
                        .thenApply(i -> Response.of(type, Messages.encodeLong(i)));
            }
            case RENEW_SESSION -> {
                GcMessages.RenewSession renew = GcMessages.RenewSession.decode(request.header());
                yield meta.renewSession(renew.sessionId(), java.time.Duration.ofMillis(renew.leaseMillis()))
                        .thenApply(i -> Response.of(type, Messages.encodeLong(i)));
            }
            case CLOSE_SESSION -> meta.closeSession(GcMessages.decodeSession(request.header()))
                    .thenApply(i -> Response.of(type, Messages.encodeLong(i)));
            case GC_ARM -> {
                // Answered only after the epoch is fsync'd: the coordinator begins the epoch on it.
                long epoch = GcMessages.decodeEpoch(request.header());
                io(() -> {
                    gc.arm(epoch);
                    return null;
                });
                yield done(Response.of(type, ByteBuffer.allocate(0)));
            }
            case GC_MARK -> {
                GcMessages.Mark mark = GcMessages.Mark.decode(request.header());
                io(() -> gc.markLive(mark.epoch(), mark.ids()));
                yield done(Response.of(type, ByteBuffer.allocate(0)));
            }
            case GC_SWEEP -> {
                long epoch = GcMessages.decodeEpoch(request.header());
                yield CompletableFuture.supplyAsync(() -> {
                    try {
                        return Response.of(type, gc.sweep(epoch).encode());
                    } catch (IOException e) {
                        throw new CompletionException(e);
                    }
                });
            }
            case GC_RUN -> {
                GcMessages.Run run = GcMessages.Run.decode(request.header());
                Duration wait = Duration.ofMillis(run.maxSessionWaitMillis());
                yield (run.runId() == null ? coordinator.runAsync(wait) : coordinator.runAsync(wait, run.runId()))
                        .thenApply(report -> Response.of(type, report.encode()));
            }
            case GC_STATUS -> {
                GcMessages.StatusRequest status = GcMessages.StatusRequest.decode(request.header());
                yield done(Response.of(type, coordinator.status(status.runId(), status.fromLine()).encode()));
            }
            case ERROR -> throw new ProtocolException("an ERROR frame is not a request");
        };
    }

    /** A session read's answer carries the index it was served at, for the client's next read. */
    private static Response sessionAnswer(MessageType type, MetaService.SessionRead read) {
        return new Response(type, new ImageMessages.SessionImages(read.images(), read.servedIndex()).encode(), List.of());
    }

    private Response getChunks(List<ChunkId> ids) {
        List<ChunkMessages.Fetched> fetched;
        try {
            // An answer must fit in one frame; what does not is MISSING, and the client asks elsewhere.
            fetched = readChunks(ids, config.limits().maxFrameBytes() - 65536L);
        } catch (IOException e) {
            throw new CompletionException(e);
        }
        List<ChunkData> found = new ArrayList<>(ids.size());
        List<ChunkMessages.ChunkStatus> status = new ArrayList<>(ids.size());
        List<ByteBuffer> payload = new ArrayList<>(ids.size());
        for (ChunkMessages.Fetched f : fetched) {
            found.add(f.data());
            status.add(f.status());
            if (f.data() != null) {
                payload.add(f.data().bytes());
            }
        }
        return new Response(MessageType.GET_CHUNKS, ChunkMessages.encodeFetched(ids, found, status), payload);
    }

    /** For each id, the chunk as stored here, MISSING (also once {@code maxBytes} are taken) or CORRUPT. */
    private List<ChunkMessages.Fetched> readChunks(List<ChunkId> ids, long maxBytes) throws IOException {
        List<ChunkMessages.Fetched> fetched = new ArrayList<>(ids.size());
        long bytes = 0;
        // The pages of one image sit in a few packs: each is decoded once per answer, not once per page.
        ChunkStore.ReadCache packs = new ChunkStore.ReadCache();
        for (ChunkId id : ids) {
            try {
                Optional<ChunkData> chunk = store.read(id, packs);
                if (chunk.isPresent() && bytes + chunk.get().storedLength() <= maxBytes) {
                    fetched.add(new ChunkMessages.Fetched(ChunkMessages.ChunkStatus.OK, chunk.get()));
                    bytes += chunk.get().storedLength();
                } else {
                    fetched.add(new ChunkMessages.Fetched(ChunkMessages.ChunkStatus.MISSING, null));
                }
            } catch (ChunkCorruptException e) {
                fetched.add(new ChunkMessages.Fetched(ChunkMessages.ChunkStatus.CORRUPT, null));
                synchronized (corruptSeen) {
                    corruptSeen.add(id);
                }
            }
        }
        return fetched;
    }

    /**
     * This node's chunk reads for the client inside it (the HTTP gateway), in process: the same
     * answers as GET_CHUNKS, with no frame limit, and counted as client traffic too.
     */
    public LocalChunks localChunks() {
        return new LocalChunks() {
            @Override
            public String nodeId() {
                return config.nodeId();
            }

            @Override
            public List<ChunkMessages.Fetched> get(List<ChunkId> ids) throws IOException {
                clientTraffic.record();
                Duration delay = chunkReadDelay;
                if (!delay.isZero()) {
                    try {
                        Thread.sleep(delay.toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", e);
                    }
                }
                return readChunks(ids, Long.MAX_VALUE);
            }

            @Override
            public int[] storedLengths(List<ChunkId> ids) throws IOException {
                return gc.has(ids);
            }

            @Override
            public CompletableFuture<Void> put(List<ChunkData> chunks) {
                return namingAFailedDisk(storeChunks(chunks));
            }

            @Override
            public CompletableFuture<Void> putPacks(List<ChunkPack> packs) {
                return namingAFailedDisk(storePacks(packs));
            }
        };
    }

    /** A store that failed on a disk error, said as a PUT's answer says it: naming this node and its disk. */
    private CompletableFuture<Void> namingAFailedDisk(CompletableFuture<Void> stored) {
        return stored.exceptionallyCompose(e -> {
            Throwable cause = unwrapped(e);
            return CompletableFuture.failedFuture(cause instanceof ChunkStoreFailedException
                    ? new IOException(diskFailedMessage(), cause) : cause);
        });
    }

    /**
     * PUT_CHUNKS, from a frame or from the client inside this node: marked with the marking epoch,
     * then appended; completes only after the fdatasync that covers every chunk. The store re-hashes
     * each chunk and refuses the call if one does not match its id.
     */
    private CompletableFuture<Void> storeChunks(List<ChunkData> chunks) {
        return unlessDiskFailed(() -> {
            if (corruptReported()) {
                replaceCorrupt(chunks);
            }
            return store.append(chunks, gc);
        });
    }

    /** PUT_PACKS, as {@link #storeChunks}: every member of every pack is verified, marked and indexed. */
    private CompletableFuture<Void> storePacks(List<ChunkPack> packs) {
        return unlessDiskFailed(() -> {
            if (corruptReported()) {
                for (ChunkPack pack : packs) {
                    List<ChunkId> ids = new ArrayList<>(pack.members().size());
                    pack.members().forEach(m -> ids.add(m.id()));
                    replaceCorrupt(ids, pack::verify);
                }
            }
            return store.appendPacks(packs, gc);
        });
    }

    /**
     * Counts client traffic and runs {@code append}, unless the store has failed: then it fails with
     * the store's failure, which a frame's answer (toNodeError) and the gateway's in-process call
     * (namingAFailedDisk) both turn into "this node's disk failed", without verifying anything.
     */
    private CompletableFuture<Void> unlessDiskFailed(java.util.function.Supplier<CompletableFuture<Void>> append) {
        clientTraffic.record();
        ChunkStoreFailedException failed = store.failure();
        return failed != null ? CompletableFuture.failedFuture(failed) : append.get();
    }

    /**
     * For each incoming chunk this node last answered "corrupt" for and whose bytes verify, drops
     * the bad copy from the index first, so the append stores the good one (as scrub does: the
     * verified replacement is in hand before the bad copy goes).
     */
    private void replaceCorrupt(List<ChunkData> chunks) {
        for (ChunkData c : chunks) {
            replaceCorrupt(List.of(c.id()), c::verify);
        }
    }

    /**
     * Whether this node has answered "corrupt" for a chunk not yet replaced: nearly never, so a
     * store checks this once per request before listing its chunks' ids for {@link #replaceCorrupt}.
     */
    private boolean corruptReported() {
        synchronized (corruptSeen) {
            return !corruptSeen.isEmpty();
        }
    }

    /** Drops {@code ids}' bad copies that this node reported corrupt, once {@code verified} says the new bytes are good. */
    private void replaceCorrupt(List<ChunkId> ids, java.util.function.BooleanSupplier verified) {
        List<ChunkId> replacing = new ArrayList<>();
        synchronized (corruptSeen) {
            if (corruptSeen.isEmpty()) {
                return;
            }
            for (ChunkId id : ids) {
                if (corruptSeen.remove(id)) {
                    replacing.add(id);
                }
            }
        }
        if (!replacing.isEmpty() && verified.getAsBoolean()) {
            for (ChunkId id : replacing) {
                io(() -> store.delete(id));
            }
        }
    }

    /**
     * A test seam: holds back every GET_CHUNKS answer of this node by {@code delay} (without
     * blocking a worker), and every read of its own gateway in process (blocking the reading
     * thread), to play a node that is slow or stalled for reads.
     */
    public void delayChunkReads(Duration delay) {
        this.chunkReadDelay = java.util.Objects.requireNonNull(delay, "delay");
    }

    private interface IoCall<T> {
        T call() throws IOException;
    }

    /** An I/O failure as the CompletionException that {@link #toError} maps to STORAGE_FAILED. */
    private static <T> T io(IoCall<T> call) {
        try {
            return call.call();
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }

    private static CompletableFuture<Response> done(Response r) {
        return CompletableFuture.completedFuture(r);
    }

    /** Like {@link #toError}, naming this node when its disk failed. */
    private Response toNodeError(Throwable t) {
        return unwrapped(t) instanceof ChunkStoreFailedException ? diskFailed() : toError(t);
    }

    /** The failure inside the completion and execution wrappers of futures. */
    private static Throwable unwrapped(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** A failed store refuses every chunk until restart: say so, and say it is this node's disk. */
    private Response diskFailed() {
        return Response.error(ErrorCode.STORAGE_FAILED, diskFailedMessage());
    }

    private String diskFailedMessage() {
        return "node " + config.nodeId() + "'s disk failed, it accepts"
                + " no chunks until it is restarted after the disk is checked: " + store.failureMessage();
    }

    /** Maps a failure to the error code and message a client acts on. */
    static Response toError(Throwable t) {
        t = unwrapped(t);
        if (t instanceof CatalogException c) {
            return Response.error(switch (c.code()) {
                case NOT_FOUND -> ErrorCode.NOT_FOUND;
                case EXISTS -> ErrorCode.EXISTS;
                case UNAVAILABLE -> ErrorCode.UNAVAILABLE;
                case INVALID -> ErrorCode.BAD_REQUEST;
                case BUSY -> ErrorCode.UNAVAILABLE;
                case SESSION_EXPIRED -> ErrorCode.SESSION_EXPIRED;
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

    /** Exposed for the HTTP API, which answers from the same sources. */
    public MetaService meta() {
        return meta;
    }

    public ChunkStore store() {
        return store;
    }
}
