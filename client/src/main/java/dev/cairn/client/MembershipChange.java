package dev.cairn.client;

import dev.cairn.protocol.MembershipMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One membership change run from the client: add, remove or replace a node, each followed by a
 * repair pass on every node and a census that checks every chunk has N copies (docs/operations.md).
 */
final class MembershipChange {

    /** How long a membership request may take: a Raft configuration change waits for the new peer's catch-up. */
    static final Duration MEMBERSHIP_TIMEOUT = Duration.ofMinutes(2);
    /** How long every node may take to apply a membership change to its catalog replica. */
    static final Duration MEMBERSHIP_APPLY_TIMEOUT = Duration.ofSeconds(30);

    private final CairnAdmin admin;
    private final Cluster cluster;

    MembershipChange(CairnAdmin admin, Cluster cluster) {
        this.admin = admin;
        this.cluster = cluster;
    }

    /** See {@link CairnAdmin#addNode}. */
    NodeChange add(Member node, Consumer<String> progress) {
        return add(node, progress, null, true);
    }

    /**
     * An add; {@code excused} (the node a replace will remove, maybe dead) need not answer, and
     * without {@code requireFullCensus} chunks below N are left to the removal that follows.
     */
    private NodeChange add(Member node, Consumer<String> progress, String excused, boolean requireFullCensus) {
        progress.accept("adding " + node.id() + " (" + node.endpoint() + (node.zone().isEmpty() ? "" : ", zone " + node.zone())
                + ") to the Raft group and the catalog");
        long index = Messages.decodeLong(cluster.metadataCall(MessageType.ADD_NODE, node.toWire().encode(), null,
                MEMBERSHIP_TIMEOUT).header());
        progress.accept(node.id() + " is a member (membership index " + index + ")");
        awaitMembership(index, excused);
        NodeChange change = rebalance("add", node.id(), index, progress, excused);
        if (requireFullCensus && (change.chunksBelowReplicas() > 0 || !change.failedNodes().isEmpty())) {
            throw new CairnException("node " + node.id() + " was added, but " + change.chunksBelowReplicas()
                    + " chunks are still below N after the repair" + failedSuffix(change) + "; run cairn admin repair");
        }
        return change;
    }

    /** See {@link CairnAdmin#removeNode}. */
    NodeChange remove(String nodeId, Consumer<String> progress) {
        requireMember(nodeId);
        long leaving = Messages.decodeLong(cluster.metadataCall(MessageType.REMOVE_NODE,
                new MembershipMessages.RemoveNode(nodeId, MembershipMessages.RemovePhase.MARK_LEAVING).encode(), nodeId,
                MEMBERSHIP_TIMEOUT).header());
        progress.accept(nodeId + " is leaving (membership index " + leaving + "): no longer a placement target");
        awaitMembership(leaving, nodeId);
        NodeChange repaired = rebalance("remove", nodeId, leaving, progress, nodeId);
        if (repaired.chunksBelowReplicas() > 0 || !repaired.failedNodes().isEmpty()) {
            throw new CairnException("node " + nodeId + " was not removed: " + repaired.chunksBelowReplicas()
                    + " chunks still have fewer than N=" + cluster.replicas() + " copies without it" + failedSuffix(repaired)
                    + "; it stays leaving (serving reads, no longer a placement target); run the remove again when the cause is fixed");
        }
        progress.accept("every chunk has N=" + cluster.replicas() + " copies without " + nodeId
                + "; dropping it from the Raft group and the catalog");
        long dropped = Messages.decodeLong(cluster.metadataCall(MessageType.REMOVE_NODE,
                new MembershipMessages.RemoveNode(nodeId, MembershipMessages.RemovePhase.DROP).encode(), nodeId,
                MEMBERSHIP_TIMEOUT).header());
        awaitMembership(dropped, nodeId);
        progress.accept(nodeId + " is removed; stop its process (cairn server) now");
        return new NodeChange("remove", nodeId, dropped, repaired.copiesMade(), repaired.bytesCopied(),
                repaired.copiesDropped(), repaired.chunksCounted(), repaired.chunksBelowReplicas(), repaired.failedNodes());
    }

    /** See {@link CairnAdmin#replaceNode}. */
    NodeChange replace(String oldId, Member replacement, Consumer<String> progress) {
        requireMember(oldId);
        // The old node may be down: the add does not wait for it, and the removal's census decides.
        NodeChange added = add(replacement, progress, oldId, false);
        NodeChange removed = remove(oldId, progress);
        return new NodeChange("replace", replacement.id(), removed.membershipIndex(), added.copiesMade() + removed.copiesMade(),
                added.bytesCopied() + removed.bytesCopied(), added.copiesDropped() + removed.copiesDropped(),
                removed.chunksCounted(), removed.chunksBelowReplicas(),
                removed.failedNodes());
    }

    private void requireMember(String nodeId) {
        if (admin.membersOnWire().members().stream().noneMatch(m -> m.id().equals(nodeId))) {
            throw new CairnException("node " + nodeId + " is not a member; cairn admin nodes lists them");
        }
    }

    private static String failedSuffix(NodeChange change) {
        return change.failedNodes().isEmpty() ? "" : " (no answer from " + String.join(", ", change.failedNodes().keySet())
                + ": " + String.join("; ", change.failedNodes().values()) + ")";
    }

    /**
     * Waits (bounded) until every member reports a membership at least as new as {@code index},
     * so that their repair passes place chunks by it; then switches this client to it.
     */
    private void awaitMembership(long index, String excused) {
        long deadline = cluster.clock().nanoTime() + MEMBERSHIP_APPLY_TIMEOUT.toNanos();
        cluster.refresh(excused);
        while (true) {
            List<String> behind = new ArrayList<>();
            for (NodeConnection node : cluster.nodes()) {
                if (node.nodeId().equals(excused)) {
                    continue; // the node being removed: it may be down, and it is no placement target
                }
                try {
                    if (cluster.clusterInfoOf(node.nodeId()).membershipIndex() < index) {
                        behind.add(node.nodeId());
                    }
                } catch (CairnException e) {
                    behind.add(node.nodeId() + " (" + e.getMessage() + ")");
                }
            }
            if (behind.isEmpty()) {
                cluster.refresh(excused);
                return;
            }
            if (cluster.clock().nanoTime() - deadline > 0) {
                throw new CairnException("membership index " + index + " did not reach " + String.join(", ", behind)
                        + " within " + MEMBERSHIP_APPLY_TIMEOUT.toSeconds() + " s; check those nodes (cairn admin health)"
                        + " and run the command again");
            }
            cluster.refresh(excused); // a node added meanwhile is asked too
            try {
                Thread.sleep(100); // polling a condition with a deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CairnException("interrupted");
            }
        }
    }

    /** A repair pass on every member (copies to the new placement), then a census pass that should find nothing to do. */
    private NodeChange rebalance(String action, String nodeId, long index, Consumer<String> progress, String excused) {
        progress.accept("repair: copying chunks to their new placement nodes on every node...");
        CairnAdmin.NodeReports<RepairReport> pass = admin.repair(RepairMode.RUN,
                (node, done, total, error) -> progress.accept("repair: " + node + " " + (error == null ? "done" : "failed: " + error)
                        + " (" + done + "/" + total + ")"));
        long copies = 0;
        long bytes = 0;
        long dropped = 0;
        for (RepairReport r : pass.reports().values()) {
            copies += r.copiesRepaired();
            bytes += r.bytesRepaired();
            dropped += r.surplusDropped();
        }
        progress.accept("census: counting copies on the placement nodes...");
        CairnAdmin.NodeReports<RepairReport> census = admin.repair(RepairMode.RUN, CairnAdmin.NodeListener.NONE);
        Map<String, String> failed = new TreeMap<>(pass.failures());
        failed.putAll(census.failures());
        // The node being removed may be down; its copies do not count, so its answer is not needed.
        if (excused != null) {
            failed.remove(excused);
        }
        long counted = 0;
        long below = 0;
        for (RepairReport r : census.reports().values()) {
            counted += r.scannedChunks();
            below += r.belowReplicas();
            copies += r.copiesRepaired();
            bytes += r.bytesRepaired();
            dropped += r.surplusDropped();
            if (r.unreachablePeers() > 0 && !r.nodeId().equals(excused)) {
                failed.putIfAbsent(r.nodeId(), r.unreachablePeers() + " peer(s) unreachable during its census");
            }
        }
        progress.accept("census: " + counted + " chunks, " + below + " below N=" + cluster.replicas() + "; " + copies
                + " copies made, " + dropped + " moved copies dropped from their old nodes");
        return new NodeChange(action, nodeId, index, copies, bytes, dropped, counted, below, failed);
    }
}
