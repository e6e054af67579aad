package dev.cairn.protocol;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The chunks of the node a client runs inside, read in process. A node's HTTP gateway is a client
 * of its own cluster; without this it asked itself for chunks over a loopback socket, and its
 * peers for the rest, so every page was read, framed, copied through the kernel and parsed again.
 * With it, a get reads the chunks this node holds directly and asks the network only for the others
 * (or when a local copy is missing or corrupt). A put asks and stores this node's copies in
 * process too, and sends over the network only the copies its peers lack. Implemented by the node;
 * an interface because the client cannot see the node's store.
 */
public interface LocalChunks {

    /** The id of the node whose chunks these are. */
    String nodeId();

    /**
     * For each id, in order, what a GET_CHUNKS answer from this node would hold: the chunk as the
     * node stores it, {@code MISSING} or {@code CORRUPT}. Unverified: the reader checks each copy
     * against its id, as it does a copy from the network.
     */
    List<ChunkMessages.Fetched> get(List<ChunkId> ids) throws IOException;

    /** What a HAS_CHUNKS answer from this node would hold: per id, its copy's stored length or {@code ABSENT}. */
    int[] storedLengths(List<ChunkId> ids) throws IOException;

    /**
     * Stores the chunks as a PUT_CHUNKS to this node would (verified against their ids first);
     * completes after the fdatasync that covers them, or fails as the PUT's answer would.
     */
    CompletableFuture<Void> put(List<ChunkData> chunks);

    /** Stores the packs as a PUT_PACKS to this node would; see {@link #put}. */
    CompletableFuture<Void> putPacks(List<ChunkPack> packs);
}
