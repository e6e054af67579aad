package dev.cairn.client;

import dev.cairn.config.ClientConfig;
import dev.cairn.config.Limits;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.placement.Placement;
import dev.cairn.engine.protocol.Messages;
import dev.cairn.engine.protocol.MessageType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Chunk-level calls to single nodes of a cluster, for nodes that repair and scrub their peers.
 * Applications use {@link CairnClient}; this is the layer under it, with no quorum logic.
 */
public final class ChunkPeers implements AutoCloseable {

    private final Cluster cluster;

    private ChunkPeers(Cluster cluster) {
        this.cluster = cluster;
    }

    public static ChunkPeers connect(ClientConfig config) {
        return new ChunkPeers(Cluster.connect(config));
    }

    public Placement placement() {
        return cluster.placement();
    }

    public int replicas() {
        return cluster.replicas();
    }

    public int writeQuorum() {
        return cluster.writeQuorum();
    }

    /** For each id, whether {@code nodeId} holds it durably. Fails when the node cannot be reached. */
    public CompletableFuture<boolean[]> has(String nodeId, List<ChunkId> ids) {
        return cluster.node(nodeId).call(MessageType.HAS_CHUNKS, Messages.encodeIds(ids))
                .thenApply(r -> {
                    boolean[] present = Messages.decodePresence(r.header());
                    if (present.length != ids.size()) {
                        throw new IllegalStateException("node " + nodeId + " answered " + present.length + " flags for "
                                + ids.size() + " ids");
                    }
                    return present;
                });
    }

    /** Stores the chunks on {@code nodeId}; completes after that node's fdatasync covers them. */
    public CompletableFuture<Void> put(String nodeId, List<ChunkData> chunks) {
        List<ByteBuffer> payload = new ArrayList<>(chunks.size());
        chunks.forEach(c -> payload.add(c.bytes()));
        return cluster.node(nodeId).call(MessageType.PUT_CHUNKS, Messages.encodeChunkHeader(chunks), payload)
                .thenApply(r -> null);
    }

    /** The chunks as {@code nodeId} holds them; the caller verifies them. */
    public CompletableFuture<List<Messages.Fetched>> get(String nodeId, List<ChunkId> ids) {
        return cluster.node(nodeId).call(MessageType.GET_CHUNKS, Messages.encodeIds(ids))
                .thenApply(r -> Messages.decodeFetched(ids, r.header(), r.payload(), Limits.DEFAULT_MAX_CHUNK_BYTES));
    }

    /** A raw request to one node (GC_ARM, GC_MARK, GC_SWEEP); completes with the answer's header. */
    public CompletableFuture<ByteBuffer> call(String nodeId, MessageType type, ByteBuffer header, java.time.Duration timeout) {
        return cluster.node(nodeId).call(type, header, List.of(), timeout).thenApply(NodeConnection.Reply::header);
    }

    @Override
    public void close() {
        cluster.close();
    }
}
