package dev.cairn.client;

import dev.cairn.protocol.ChunkMessages;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.placement.Placement;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.MessageType;
import java.nio.ByteBuffer;
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
        return new ChunkPeers(Cluster.connect(config, null, dev.cairn.engine.Clock.SYSTEM));
    }

    /** Asks the cluster for its membership again: placement and peers follow nodes added or removed. */
    public void refresh() {
        cluster.refresh();
    }

    /** The log index of the membership this view was built from (0: from a config, before any was recorded). */
    public long membershipIndex() {
        return cluster.info().membershipIndex();
    }

    /** The ids of every member (active and leaving), the nodes repair and GC talk to. */
    public List<String> nodeIds() {
        return cluster.info().nodes().stream().map(Messages.Peer::id).toList();
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
        return cluster.hasChunks(nodeId, ids);
    }

    /** Stores the chunks on {@code nodeId}; completes after that node's fdatasync covers them. */
    public CompletableFuture<Void> put(String nodeId, List<ChunkData> chunks) {
        return cluster.putChunks(nodeId, chunks);
    }

    /** The chunks as {@code nodeId} holds them; the caller verifies them. */
    public CompletableFuture<List<ChunkMessages.Fetched>> get(String nodeId, List<ChunkId> ids) {
        return cluster.getChunks(nodeId, ids);
    }

    /** Any request to one node (GC's arm, mark and sweep); the answer's header, or the node's error. */
    public CompletableFuture<ByteBuffer> call(String nodeId, MessageType type, ByteBuffer header, java.time.Duration timeout) {
        return cluster.call(nodeId, type, header, List.of(), timeout).thenApply(NodeConnection.Reply::header);
    }

    @Override
    public void close() {
        cluster.close();
    }
}
