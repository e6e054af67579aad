package dev.cairn.client;

import dev.cairn.protocol.ReplicationMessages;

/**
 * One node's replication census and what its repair pass copied. Each chunk is counted by exactly
 * one node, so the sums over all nodes are the cluster's figures.
 *
 * @param scannedChunks chunks this node counted
 * @param belowReplicas chunks with fewer than N copies on their placement nodes
 * @param belowWriteQuorum chunks with fewer than N_W copies
 * @param copiesRepaired copies sent to placement nodes that lacked them
 * @param bytesRepaired stored bytes of those copies
 * @param unreachablePeers peers that did not answer during the pass
 * @param finishedAtMillis when the census finished (epoch millis), -1 when none has run
 * @param surplusDropped copies dropped from nodes that are no longer placement nodes of their chunk
 */
public record RepairReport(String nodeId, long scannedChunks, long belowReplicas, long belowWriteQuorum,
                           long copiesRepaired, long bytesRepaired, long unreachablePeers, long finishedAtMillis,
                           long durationMillis, long surplusDropped) {

    static RepairReport of(ReplicationMessages.RepairReport r) {
        return new RepairReport(r.nodeId(), r.scannedChunks(), r.belowReplicas(), r.belowWriteQuorum(), r.copiesRepaired(),
                r.bytesRepaired(), r.unreachablePeers(), r.finishedAtMillis(), r.durationMillis(), r.surplusDropped());
    }
}
