package dev.cairn.server.meta;

/**
 * One node's view of the metadata Raft group.
 *
 * @param nodeId this node
 * @param role its Raft role: LEADER, FOLLOWER, CANDIDATE or LISTENER
 * @param term the current term
 * @param leaderId the leader this node knows of, or null
 * @param commitIndex the highest log index known to be committed
 * @param appliedIndex the highest log index applied to the catalog
 */
public record MetaStatus(String nodeId, String role, long term, String leaderId, long commitIndex, long appliedIndex) {}
