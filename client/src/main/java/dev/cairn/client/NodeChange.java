package dev.cairn.client;

import java.util.Map;

/**
 * What one membership change did: the node, the log index of the membership it left behind,
 * the copies the repair passes made, and what the census found after them.
 *
 * @param action {@code add}, {@code remove} or {@code replace}
 * @param membershipIndex Raft log index of the last membership entry of the change
 * @param copiesMade chunk copies the repair passes sent to their new placement nodes
 * @param bytesCopied stored bytes of those copies
 * @param copiesDropped copies deleted from nodes that are no longer placement nodes of their chunk,
 *     once every placement node held the chunk (the other half of a move)
 * @param chunksCounted chunks the census counted (each once)
 * @param chunksBelowReplicas chunks with fewer than N copies on their placement nodes after the repair
 * @param failedNodes nodes that did not answer a repair or census request, with why
 */
public record NodeChange(String action, String nodeId, long membershipIndex, long copiesMade, long bytesCopied,
                         long copiesDropped, long chunksCounted, long chunksBelowReplicas, Map<String, String> failedNodes) {
    public NodeChange {
        failedNodes = Map.copyOf(failedNodes);
    }
}
