package dev.cairn.server.net;

import dev.cairn.protocol.ChunkMessages;
import static dev.cairn.server.net.Answers.done;
import static dev.cairn.server.net.Answers.io;

import dev.cairn.config.NodeConfig;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.LocalChunks;
import dev.cairn.protocol.MessageType;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.net.RequestHandler.Response;
import dev.cairn.server.replication.ClientTraffic;
import dev.cairn.server.store.ChunkCorruptException;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreFailedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The chunk requests, answered by the local chunk store through this node's GC state (which
 * marks what it stores or reports present): HAS_CHUNKS, PUT_CHUNKS, PUT_PACKS and GET_CHUNKS, and
 * the same reads and writes in process for the gateway inside this node ({@link #localChunks}).
 */
final class ChunkRequests {

    private final NodeConfig config;
    private final ChunkStore store;
    private final GcNode gc;
    /** Puts and gets of chunks, so that the node's scheduled repair passes can yield to them. */
    private final ClientTraffic clientTraffic;
    private final CorruptChunksSeen corruptSeen;
    /** A test seam: how long GET_CHUNKS answers are held back, to play a slow or stalled node. */
    private volatile Duration chunkReadDelay = Duration.ZERO;

    ChunkRequests(NodeConfig config, ChunkStore store, GcNode gc, ClientTraffic clientTraffic) {
        this.config = config;
        this.store = store;
        this.gc = gc;
        this.clientTraffic = clientTraffic;
        this.corruptSeen = new CorruptChunksSeen(store);
    }

    Map<MessageType, Responder> responders() {
        Map<MessageType, Responder> r = new EnumMap<>(MessageType.class);
        r.put(MessageType.HAS_CHUNKS, this::has);
        r.put(MessageType.PUT_CHUNKS, this::putChunks);
        r.put(MessageType.PUT_PACKS, this::putPacks);
        r.put(MessageType.GET_CHUNKS, this::getChunks);
        return r;
    }

    private CompletableFuture<Response> has(Frame request) {
        // A "present" answer marks the chunk with the marking epoch first (docs/gc.md step 1).
        int[] storedLengths = io(() -> gc.has(ChunkMessages.decodeIds(request.header())));
        return done(Response.of(request.type(), ChunkMessages.encodePresence(storedLengths)));
    }

    private CompletableFuture<Response> putChunks(Frame request) {
        List<ChunkData> chunks = ChunkMessages.decodeChunks(request.header(), request.payload(),
                config.limits().maxChunkBytes());
        return storeChunks(chunks).thenApply(v -> Response.of(request.type(), ByteBuffer.allocate(0)));
    }

    private CompletableFuture<Response> putPacks(Frame request) {
        List<ChunkPack> packs = ChunkMessages.decodePacks(request.header(), request.payload(),
                config.limits().maxChunkBytes());
        return storePacks(packs).thenApply(v -> Response.of(request.type(), ByteBuffer.allocate(0)));
    }

    private CompletableFuture<Response> getChunks(Frame request) {
        clientTraffic.record();
        List<ChunkId> ids = ChunkMessages.decodeIds(request.header());
        Duration delay = chunkReadDelay;
        return delay.isZero() ? done(fetchedAnswer(ids)) : CompletableFuture.supplyAsync(() -> fetchedAnswer(ids),
                CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS));
    }

    private Response fetchedAnswer(List<ChunkId> ids) {
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
                corruptSeen.reported(id);
            }
        }
        return fetched;
    }

    /**
     * This node's chunk reads for the client inside it (the HTTP gateway), in process: the same
     * answers as GET_CHUNKS, with no frame limit, and counted as client traffic too.
     */
    LocalChunks localChunks() {
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
            Throwable cause = Answers.unwrapped(e);
            return CompletableFuture.failedFuture(cause instanceof ChunkStoreFailedException
                    ? new IOException(diskFailedMessage(), cause) : cause);
        });
    }

    /** What this node answers once its store failed: it is this node's disk, and what to do. */
    String diskFailedMessage() {
        return "node " + config.nodeId() + "'s disk failed, it accepts"
                + " no chunks until it is restarted after the disk is checked: " + store.failureMessage();
    }

    /**
     * PUT_CHUNKS, from a frame or from the client inside this node: marked with the marking epoch,
     * then appended; completes only after the fdatasync that covers every chunk. The store re-hashes
     * each chunk and refuses the call if one does not match its id.
     */
    private CompletableFuture<Void> storeChunks(List<ChunkData> chunks) {
        return unlessDiskFailed(() -> {
            if (corruptSeen.any()) {
                for (ChunkData c : chunks) {
                    corruptSeen.replace(List.of(c.id()), c::verify);
                }
            }
            return store.append(chunks, gc);
        });
    }

    /** PUT_PACKS, as {@link #storeChunks}: every member of every pack is verified, marked and indexed. */
    private CompletableFuture<Void> storePacks(List<ChunkPack> packs) {
        return unlessDiskFailed(() -> {
            if (corruptSeen.any()) {
                for (ChunkPack pack : packs) {
                    List<ChunkId> ids = new ArrayList<>(pack.members().size());
                    pack.members().forEach(m -> ids.add(m.id()));
                    corruptSeen.replace(ids, pack::verify);
                }
            }
            return store.appendPacks(packs, gc);
        });
    }

    /**
     * Counts client traffic and runs {@code append}, unless the store has failed: then it fails with
     * the store's failure, which a frame's answer (RequestHandler) and the gateway's in-process call
     * (namingAFailedDisk) both turn into "this node's disk failed", without verifying anything.
     */
    private CompletableFuture<Void> unlessDiskFailed(Supplier<CompletableFuture<Void>> append) {
        clientTraffic.record();
        ChunkStoreFailedException failed = store.failure();
        return failed != null ? CompletableFuture.failedFuture(failed) : append.get();
    }

    /** The test seam of {@link RequestHandler#delayChunkReads}. */
    void delayChunkReads(Duration delay) {
        this.chunkReadDelay = Objects.requireNonNull(delay, "delay");
    }
}
