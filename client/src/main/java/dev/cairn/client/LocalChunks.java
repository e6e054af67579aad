package dev.cairn.client;

import dev.cairn.engine.ChunkId;
import dev.cairn.engine.protocol.Messages;
import java.io.IOException;
import java.util.List;

/**
 * The chunks of the node a client runs inside, read in process. A node's HTTP gateway is a client
 * of its own cluster; without this it asked itself for chunks over a loopback socket, and its
 * peers for the rest, so every page was read, framed, copied through the kernel and parsed again.
 * With it, a get reads the chunks this node holds directly and asks the network only for the others
 * (or when a local copy is missing or corrupt). Implemented by the node; an interface because the
 * client cannot see the node's store.
 */
public interface LocalChunks {

    /** The id of the node whose chunks these are. */
    String nodeId();

    /**
     * For each id, in order, what a GET_CHUNKS answer from this node would hold: the chunk as the
     * node stores it, {@code MISSING} or {@code CORRUPT}. Unverified: the reader checks each copy
     * against its id, as it does a copy from the network.
     */
    List<Messages.Fetched> get(List<ChunkId> ids) throws IOException;
}
