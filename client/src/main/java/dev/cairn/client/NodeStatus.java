package dev.cairn.client;

import dev.cairn.protocol.Messages;

/**
 * One node's Raft role and indexes and its chunk store size, as it reported them.
 *
 * @param leaderId null when the node knows no leader
 */
public record NodeStatus(String nodeId, String role, long term, String leaderId, long commitIndex, long appliedIndex,
                         long chunkCount, long storedBytes) {

    static NodeStatus of(Messages.NodeStatus s) {
        return new NodeStatus(s.nodeId(), s.role(), s.term(), s.leaderId(), s.commitIndex(), s.appliedIndex(),
                s.chunkCount(), s.storedBytes());
    }
}
