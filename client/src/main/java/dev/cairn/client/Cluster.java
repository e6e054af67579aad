package dev.cairn.client;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.ChunkMessages;
import dev.cairn.protocol.LocalChunks;
import dev.cairn.config.ClientConfig;
import dev.cairn.protocol.transport.ClientTls;
import dev.cairn.config.Limits;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.MessageType;
import dev.cairn.engine.placement.Placement;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client's view of a cluster: its nodes (learned from any one of them), its quorums, where
 * each chunk lives, and one connection per node.
 */
final class Cluster implements AutoCloseable {

    /** What the cluster looked like at the last CLUSTER_INFO: replaced whole by {@link #refresh}. */
    private record View(Messages.ClusterInfo info, Placement placement, Map<String, NodeConnection> connections) {}

    private volatile View view;
    /** When {@link #view} was taken, for {@link #refreshIfOlderThan}. */
    private volatile long viewAtNanos;
    /**
     * Connections of nodes that left the membership: a call in flight on one may still finish,
     * so they are closed with the cluster, not when the view changes.
     */
    private final List<NodeConnection> retired = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final EventLoopGroup group;
    private final ClientConfig config;
    /** The TLS of every connection of this client, built once from {@code config}. */
    private final ClientTls tls;
    /** Metadata calls over this cluster's current connections, to the node that answered last first. */
    private final MetadataCalls metadata;
    /** The node this client runs inside, whose chunks it reads in process; null for other clients. */
    private final LocalChunks local;
    /** This client's identity for exactly-once commits and deletes. */
    private final java.util.UUID clientId = java.util.UUID.randomUUID();
    private final java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
    private final ReadLatency readLatency;
    /** The source of time of hedging, view ages and commit times; {@link dev.cairn.engine.Clock#SYSTEM} but in tests. */
    private final dev.cairn.engine.Clock clock;
    /**
     * Hedge timers, and requests that follow an answer or a timer: off the network threads, because
     * the first call to a node connects and blocks until connected.
     */
    private final java.util.concurrent.ScheduledExecutorService background =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "cairn-client-reads");
                t.setDaemon(true);
                return t;
            });

    /**
     * Decoding and verifying fetched chunks (zstd, SHA-256), and the local node's reads, HAS answers
     * and stores (which verify too): one thread per core, so that this work neither runs on the
     * network threads, which then stop reading answers, nor on one core only.
     */
    private final java.util.concurrent.ExecutorService decoders = java.util.concurrent.Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(), r -> {
                Thread t = new Thread(r, "cairn-client-decode");
                t.setDaemon(true);
                return t;
            });

    /**
     * Connects for chunk reads whose node has no open connection (ChunkReader): a connect to a
     * host that died without a word blocks until the connect timeout, and must hold up neither a
     * read's caller nor the background thread. Four threads: a read queued behind a dead node's
     * connect has usually been answered by another replica by the time a thread takes it, and is
     * then dropped without a dial (ChunkReader), so the queue drains as fast as reads are answered.
     */
    private final java.util.concurrent.ThreadPoolExecutor connector = new java.util.concurrent.ThreadPoolExecutor(
            4, 4, 30, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "cairn-client-connect");
                t.setDaemon(true);
                return t;
            });

    {
        connector.allowCoreThreadTimeOut(true);
    }

    private Cluster(ClientConfig config, Messages.ClusterInfo info, EventLoopGroup group, LocalChunks local,
                    dev.cairn.engine.Clock clock, ClientTls tls) {
        this.tls = tls;
        this.config = config;
        this.clock = clock;
        this.viewAtNanos = clock.nanoTime();
        this.local = local;
        this.group = group;
        this.view = view(info, Map.of());
        this.metadata = new MetadataCalls(() -> view.connections(), info.nodeId(), background);
        this.readLatency = new ReadLatency(config.readHedgeDelay(), clock);
    }

    /**
     * A view of {@code info}, reusing the open connections of nodes whose endpoint did not change.
     * Placement is over the active nodes only; leaving nodes stay reachable for reads and repair.
     */
    private View view(Messages.ClusterInfo info, Map<String, NodeConnection> previous) {
        Map<String, NodeConnection> byId = new LinkedHashMap<>();
        Map<String, String> zones = new LinkedHashMap<>();
        for (Messages.Peer peer : info.nodes()) {
            NodeConnection old = previous.get(peer.id());
            byId.put(peer.id(), old != null && old.endpoint().equals(peer.endpoint()) ? old
                    : new NodeConnection(peer.id(), peer.host(), peer.port(), Limits.DEFAULT_MAX_FRAME_BYTES,
                    config.requestTimeout(), group, config.token(), tls));
            if (peer.active()) {
                zones.put(peer.id(), peer.zone());
            }
        }
        if (zones.isEmpty()) {
            throw new CairnException("node " + info.nodeId() + " reports no active node; check its membership (cairn admin nodes)");
        }
        return new View(info, new Placement(zones), byId);
    }

    /**
     * Asks the cluster for its membership again and switches to it: after a node was added or
     * removed.
     */
    void refresh() {
        refresh(null);
    }

    /**
     * As {@link #refresh()}, never asking node {@code avoid}: a node just removed from the group
     * no longer learns the membership and would answer with its last view.
     */
    void refresh(String avoid) {
        View old = view;
        NodeConnection.Reply reply = metadataCall(MessageType.CLUSTER_INFO, ByteBuffer.allocate(0), avoid,
                config.requestTimeout());
        Messages.ClusterInfo info = Messages.ClusterInfo.decode(reply.header());
        View fresh = view(info, old.connections());
        view = fresh;
        viewAtNanos = clock.nanoTime();
        old.connections().forEach((id, c) -> {
            if (fresh.connections().get(id) != c) {
                retired.add(c);
            }
        });
    }

    /**
     * Refreshes the view when it is older than {@code age}, so a long-lived client (an HTTP
     * gateway, an agent) follows membership changes. A failed refresh keeps the old view: the
     * operation that follows then reports what is wrong.
     */
    void refreshIfOlderThan(java.time.Duration age) {
        if (clock.nanoTime() - viewAtNanos < age.toNanos()) {
            return;
        }
        try {
            refresh();
        } catch (CairnException e) {
            viewAtNanos = clock.nanoTime(); // not again for every call while the cluster is down
        }
    }

    /** The membership as node {@code nodeId} reports it now (not cached). */
    Messages.ClusterInfo clusterInfoOf(String nodeId) {
        try {
            return Messages.ClusterInfo.decode(node(nodeId).call(MessageType.CLUSTER_INFO, ByteBuffer.allocate(0)).get().header());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NodeConnection.RemoteError remote) {
                throw translate(remote);
            }
            throw new CairnException.ClusterUnreachable(Failures.describe(node(nodeId), e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CairnException("interrupted");
        }
    }

    /**
     * Asks the given endpoints in order for the cluster's membership; fails if none answers. For a
     * client inside a node, {@code local} (else null) serves that node's chunk reads, HAS answers
     * and stores in process.
     */
    static Cluster connect(ClientConfig config, LocalChunks local, dev.cairn.engine.Clock clock) {
        ClientTls tls = ClientTls.of(config.tls());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        List<String> failures = new ArrayList<>();
        for (String endpoint : config.endpoints()) {
            ClientConfig.HostPort hp = ClientConfig.parseEndpoint(endpoint);
            NodeConnection probe = new NodeConnection("?", hp.host(), hp.port(), Limits.DEFAULT_MAX_FRAME_BYTES,
                    config.requestTimeout(), group, config.token(), tls);
            try {
                NodeConnection.Reply reply = probe.call(MessageType.CLUSTER_INFO, ByteBuffer.allocate(0))
                        .get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
                return new Cluster(config, Messages.ClusterInfo.decode(reply.header()), group, local, clock, tls);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NodeConnection.RemoteError remote && (remote.code() == ErrorCode.UNAUTHENTICATED
                        || remote.code() == ErrorCode.FORBIDDEN)) {
                    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                    throw translate(remote); // another node would refuse the same token
                }
                failures.add(endpoint + " (" + Failures.cause(e.getCause()) + ")");
            } catch (TimeoutException e) {
                failures.add(endpoint + " (no answer)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                probe.close();
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        throw new CairnException.ClusterUnreachable("cluster unreachable: no node answered at " + String.join(", ", failures)
                + "; check --cluster / CAIRN_CLUSTER and that the nodes run (cairn dev)"
                + (config.tls().enabled() || failures.stream().noneMatch(f -> f.contains("(connection closed)")) ? ""
                : "; nodes with TLS close plain connections: set CAIRN_TLS_CA to the cluster CA's certificate"), null);
    }

    /** A new call id: the metadata call retried on another node carries the same one. */
    ImageMessages.CallId nextCall() {
        return new ImageMessages.CallId(clientId, calls.incrementAndGet());
    }

    /** For each id, whether {@code nodeId} holds it durably; fails when the node cannot be reached. */
    java.util.concurrent.CompletableFuture<boolean[]> hasChunks(String nodeId, List<dev.cairn.engine.ChunkId> ids) {
        return storedLengths(nodeId, ids).thenApply(lengths -> {
            boolean[] present = new boolean[lengths.length];
            for (int i = 0; i < lengths.length; i++) {
                present[i] = lengths[i] != ChunkMessages.ABSENT;
            }
            return present;
        });
    }

    /** For each id, the encoded length of {@code nodeId}'s durable copy, or {@link Messages#ABSENT}. */
    java.util.concurrent.CompletableFuture<int[]> storedLengths(String nodeId, List<dev.cairn.engine.ChunkId> ids) {
        if (isLocal(nodeId)) {
            return onDecoders(() -> local.storedLengths(ids));
        }
        return call(nodeId, MessageType.HAS_CHUNKS, ChunkMessages.encodeIds(ids), List.of(), config.requestTimeout()).thenApply(r -> {
            int[] lengths = ChunkMessages.decodePresence(r.header());
            if (lengths.length != ids.size()) {
                throw new IllegalStateException("node " + nodeId + " answered " + lengths.length + " entries for " + ids.size() + " ids");
            }
            return lengths;
        });
    }

    /** Stores the chunks on {@code nodeId}; completes after that node's fdatasync covers them. */
    java.util.concurrent.CompletableFuture<Void> putChunks(String nodeId, List<dev.cairn.engine.ChunkData> chunks) {
        if (isLocal(nodeId)) {
            return onDecoders(() -> local.put(chunks)).thenCompose(java.util.function.Function.identity());
        }
        List<ByteBuffer> payload = new ArrayList<>(chunks.size());
        chunks.forEach(c -> payload.add(c.bytes()));
        return call(nodeId, MessageType.PUT_CHUNKS, ChunkMessages.encodeChunkHeader(chunks), payload, config.requestTimeout())
                .thenApply(r -> null);
    }

    /** Stores the packs on {@code nodeId}; completes after that node's fdatasync covers them. */
    java.util.concurrent.CompletableFuture<Void> putPacks(String nodeId, List<dev.cairn.engine.ChunkPack> packs) {
        if (isLocal(nodeId)) {
            return onDecoders(() -> local.putPacks(packs)).thenCompose(java.util.function.Function.identity());
        }
        List<ByteBuffer> payload = new ArrayList<>(packs.size());
        packs.forEach(p -> payload.add(p.frame()));
        return call(nodeId, MessageType.PUT_PACKS, ChunkMessages.encodePackHeader(packs), payload, config.requestTimeout())
                .thenApply(r -> null);
    }

    /**
     * The chunks as {@code nodeId} holds them, unverified: the caller checks them against their ids.
     * The local node's are read in process, on the decoding threads.
     */
    java.util.concurrent.CompletableFuture<List<ChunkMessages.Fetched>> getChunks(String nodeId, List<dev.cairn.engine.ChunkId> ids) {
        if (isLocal(nodeId)) {
            return onDecoders(() -> local.get(ids));
        }
        return call(nodeId, MessageType.GET_CHUNKS, ChunkMessages.encodeIds(ids), List.of(), config.requestTimeout())
                .thenApply(r -> ChunkMessages.decodeFetched(ids, r.header(), r.payload(), Limits.DEFAULT_MAX_CHUNK_BYTES));
    }

    /**
     * A call into the local node, on the decoding threads: its reads decode and its stores verify
     * on the calling thread, which must be neither a network thread nor the caller, who is about
     * to send the same batch to the peers. An IOException fails the future.
     */
    private <T> java.util.concurrent.CompletableFuture<T> onDecoders(LocalCall<T> call) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, decoders);
    }

    private interface LocalCall<T> {
        T call() throws IOException;
    }

    /** Whether {@code nodeId} is the node this client runs inside. */
    boolean isLocal(String nodeId) {
        return local != null && local.nodeId().equals(nodeId);
    }

    /** The id of the node this client runs inside, or null. */
    String localNodeId() {
        return local == null ? null : local.nodeId();
    }

    /** The client's source of time. */
    dev.cairn.engine.Clock clock() {
        return clock;
    }

    /** Round trips of recent chunk reads, which set the hedge delay. */
    ReadLatency readLatency() {
        return readLatency;
    }

    /** The client's threads for decoding and verifying fetched chunks, and compressing read-repair copies. */
    java.util.concurrent.Executor decoders() {
        return decoders;
    }

    /** The client's threads for the chunk reads that must connect first. */
    java.util.concurrent.Executor connector() {
        return connector;
    }

    /** Whether this client has an open connection to {@code nodeId} (a call to it needs no connect). */
    boolean isConnected(String nodeId) {
        NodeConnection c = view.connections().get(nodeId);
        return c != null && c.isConnected();
    }

    /** The client's thread for hedge timers and follow-up reads and read-repairs. */
    java.util.concurrent.ScheduledExecutorService background() {
        return background;
    }

    /** The client's settings (compression level, timeouts). */
    ClientConfig config() {
        return config;
    }

    java.util.UUID clientId() {
        return clientId;
    }

    Messages.ClusterInfo info() {
        return view.info();
    }

    Placement placement() {
        return view.placement();
    }

    int replicas() {
        return view.info().replicas();
    }

    int writeQuorum() {
        return view.info().writeQuorum();
    }

    int readQuorum() {
        return view.info().readQuorum();
    }

    /**
     * A request to one node; a node that left the membership since the caller chose it (the view
     * changed in between) fails the future like an unreachable node, rather than the caller.
     */
    java.util.concurrent.CompletableFuture<NodeConnection.Reply> call(String nodeId, MessageType type, ByteBuffer header,
                                                                     List<ByteBuffer> payload, java.time.Duration timeout) {
        NodeConnection c = view.connections().get(nodeId);
        if (c == null) {
            return java.util.concurrent.CompletableFuture.failedFuture(new IOException("node " + nodeId
                    + " is no longer a member of the cluster"));
        }
        return c.call(type, header, payload, timeout);
    }

    NodeConnection node(String id) {
        NodeConnection c = view.connections().get(id);
        if (c == null) {
            throw new CairnException("node " + id + " is not a member of the cluster as this client knows it");
        }
        return c;
    }

    List<NodeConnection> nodes() {
        return List.copyOf(view.connections().values());
    }

    /**
     * A metadata call: any node can serve it (it forwards to the Raft leader); see {@link MetadataCalls}.
     */
    NodeConnection.Reply metadataCall(MessageType type, ByteBuffer header) {
        return metadata.call(type, header, null, config.requestTimeout());
    }

    /** As {@link #metadataCall(MessageType, ByteBuffer)}, never through node {@code avoid}, with its own time limit. */
    NodeConnection.Reply metadataCall(MessageType type, ByteBuffer header, String avoid, java.time.Duration timeout) {
        return metadata.call(type, header, avoid, timeout);
    }

    /** As {@link #metadataCall(MessageType, ByteBuffer)} without blocking the caller. */
    java.util.concurrent.CompletableFuture<NodeConnection.Reply> metadataCallAsync(MessageType type, ByteBuffer header,
                                                                                  java.time.Duration timeout) {
        return metadata.callAsync(type, header, timeout);
    }

    /** Maps a node's ERROR answer to the exception a caller handles. */
    static CairnException translate(NodeConnection.RemoteError e) {
        return MetadataCalls.translate(e);
    }

    /** The failure inside the wrappers a future or an executor puts around it. */
    static Throwable unwrap(Throwable t) {
        return Failures.unwrap(t);
    }

    @Override
    public void close() {
        background.shutdownNow();
        decoders.shutdownNow();
        connector.shutdownNow();
        view.connections().values().forEach(NodeConnection::close);
        retired.forEach(NodeConnection::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
