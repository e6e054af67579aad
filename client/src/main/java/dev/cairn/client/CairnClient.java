package dev.cairn.client;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.LocalChunks;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MembershipMessages;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.ReplicationMessages;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * A connection to a Cairn cluster: put, get, list, stat and delete checkpoint images.
 *
 * <p>Thread-safe; one instance holds one connection per node. Every put is durable when it
 * returns: each chunk is fsync'd on N_W nodes and the image's root is committed in the Raft log
 * on a majority. Every get verifies each chunk against its SHA-256.
 *
 * <pre>{@code
 * try (CairnClient cairn = CairnClient.connect(ClientConfig.parse("127.0.0.1:7400"))) {
 *     cairn.put("job-7/ckpt-1", Path.of("/var/lib/criu/dump-1"));
 *     cairn.get("job-7/ckpt-1", Path.of("/tmp/restore"));
 * }
 * }</pre>
 */
public final class CairnClient implements AutoCloseable {

    /** Most images one list call returns. */
    public static final int MAX_LIST = 1000;

    /**
     * The lease of a put's upload session. The put renews it every third of the lease while it
     * runs, so a put may take longer; a session whose client stopped renewing (a client that died
     * mid-put) holds garbage collection back for at most this long. Short, because a GC epoch
     * waits for every session older than itself (docs/gc.md).
     */
    public static final java.time.Duration DEFAULT_SESSION_LEASE = java.time.Duration.ofSeconds(60);

    /**
     * How old the client's view of the membership may get before an operation asks for it again:
     * after a node is added or removed, a long-lived client places chunks by the new membership
     * within this time. One small request per interval at most.
     */
    static final java.time.Duration MEMBERSHIP_MAX_AGE = java.time.Duration.ofSeconds(30);

    private final Cluster cluster;
    private final java.util.concurrent.atomic.AtomicLong sessionIndex = new java.util.concurrent.atomic.AtomicLong();
    private volatile java.time.Duration sessionLease = DEFAULT_SESSION_LEASE;
    private volatile java.util.function.Consumer<java.util.UUID> beforeCommit = session -> {};
    private volatile SessionRenewals sessionRenewals = SessionRenewals.NONE;

    private CairnClient(Cluster cluster) {
        this.cluster = cluster;
    }

    /** Connects to the cluster through the first of the configured nodes that answers. */
    public static CairnClient connect(ClientConfig config) {
        return new CairnClient(Cluster.connect(config));
    }

    /**
     * Connects as the client of a node's own gateway: that node's copies are read, asked about
     * and stored through {@code local}, in process, and only the peers' over the network.
     */
    public static CairnClient connect(ClientConfig config, LocalChunks local) {
        return new CairnClient(Cluster.connect(config, java.util.Objects.requireNonNull(local, "local")));
    }

    /**
     * Sets the upload session lease of later puts (default {@link #DEFAULT_SESSION_LEASE}); each
     * put renews its session every third of it while it runs.
     */
    public CairnClient sessionLease(java.time.Duration lease) {
        this.sessionLease = java.util.Objects.requireNonNull(lease, "lease");
        return this;
    }

    /**
     * A test seam: runs after a put's chunks are durable and before its commit is sent, with the
     * put's session id, so a test can order a GC epoch against the put.
     */
    public CairnClient beforeCommit(java.util.function.Consumer<java.util.UUID> hook) {
        this.beforeCommit = java.util.Objects.requireNonNull(hook, "hook");
        return this;
    }

    /**
     * A test seam around the renewals of each put's upload session (docs/gc.md), so a test can
     * count them, or fail them to play a client cut off from the catalog.
     */
    public interface SessionRenewals {
        SessionRenewals NONE = new SessionRenewals() {};

        /**
         * Runs on the client's background thread before a renewal is sent; it must not block.
         * Throwing fails this renewal as a lost call would (the next tick tries again).
         */
        default void beforeRenewal(java.util.UUID session) {}

        /**
         * Runs when a renewal has its outcome, on a client thread that must not block:
         * {@code failure} is null when the lease was extended, a {@link CairnException.SessionExpired}
         * when the catalog refused it (the put then fails), anything else for a renewal that was lost.
         */
        default void afterRenewal(java.util.UUID session, CairnException failure) {}
    }

    /** Installs a {@link SessionRenewals} test seam for later puts. */
    public CairnClient sessionRenewals(SessionRenewals hook) {
        this.sessionRenewals = java.util.Objects.requireNonNull(hook, "hook");
        return this;
    }

    /** Every chunk image {@code info} references (manifest tree and data), read and verified from the cluster. */
    public java.util.Set<dev.cairn.engine.ChunkId> referencedChunks(ImageInfo info) {
        return new ImageRestorer(cluster, ProgressListener.NONE).referencedChunks(info);
    }

    /**
     * Runs one garbage collection epoch with a node as the coordinator (the first that answers),
     * waiting at most {@code maxSessionWait} for upload sessions older than the epoch. The report
     * says what each node freed, or why the epoch was abandoned.
     */
    public GcMessages.RunReport gc(java.time.Duration maxSessionWait) {
        return gc(maxSessionWait, line -> {});
    }

    /** How often a running GC epoch is asked for its progress. */
    static final java.time.Duration GC_PROGRESS_POLL = java.time.Duration.ofMillis(250);

    /**
     * As {@link #gc(java.time.Duration)}, handing each of the coordinator's progress lines (its
     * phases, the manifest walk, each node's sweep) to {@code progress} while the epoch runs.
     */
    public GcMessages.RunReport gc(java.time.Duration maxSessionWait, java.util.function.Consumer<String> progress) {
        List<String> failures = new ArrayList<>();
        java.util.UUID runId = java.util.UUID.randomUUID();
        for (NodeConnection node : cluster.nodes()) {
            java.util.concurrent.CompletableFuture<NodeConnection.Reply> run = node.call(MessageType.GC_RUN,
                    new GcMessages.Run(maxSessionWait.toMillis(), runId).encode(), List.of(),
                    maxSessionWait.plus(java.time.Duration.ofHours(6)));
            int seen = 0;
            try {
                while (true) {
                    try {
                        GcMessages.RunReport report = GcMessages.RunReport.decode(
                                run.get(GC_PROGRESS_POLL.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).header());
                        report.log().stream().skip(seen).forEach(progress);
                        return report;
                    } catch (java.util.concurrent.TimeoutException stillRunning) {
                        seen += pollGcProgress(node, runId, seen, progress);
                    }
                }
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NodeConnection.RemoteError remote) {
                    throw Cluster.translate(remote);
                }
                if (seen > 0) {
                    // The epoch ran on this node: running it elsewhere now would start a second one.
                    throw new CairnException("lost node " + node.nodeId() + " while it ran the GC epoch ("
                            + Cluster.rootMessage(e.getCause()) + "); run cairn admin gc again", e.getCause());
                }
                failures.add(node.nodeId() + ": " + Cluster.rootMessage(e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CairnException("interrupted");
            }
        }
        throw new CairnException.ClusterUnreachable("cluster unreachable: no node answered (" + String.join("; ", failures)
                + ")", null);
    }

    /** Hands the run's new progress lines to {@code progress}; returns how many. A failed poll shows nothing. */
    private static int pollGcProgress(NodeConnection node, java.util.UUID runId, int seen,
                                      java.util.function.Consumer<String> progress) throws InterruptedException {
        try {
            GcMessages.Progress p = GcMessages.Progress.decode(node.call(MessageType.GC_STATUS,
                    new GcMessages.StatusRequest(runId, seen).encode()).get(10, java.util.concurrent.TimeUnit.SECONDS).header());
            p.lines().forEach(progress);
            return p.lines().size();
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return 0; // the run's own answer says whether the node is gone
        }
    }

    /** Stores a directory (its contents) or a single file as image {@code name}. */
    public PutResult put(String name, Path source, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return seen(new ImageUploader(cluster, progress, sessionLease, sessionRenewals, beforeCommit).putPath(name(name), source));
    }

    public PutResult put(String name, Path source) {
        return put(name, source, ProgressListener.NONE);
    }

    /** Stores everything {@code in} yields as a single-stream image. The stream is not closed. */
    public PutResult put(String name, InputStream in, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return seen(new ImageUploader(cluster, progress, sessionLease, sessionRenewals, beforeCommit).putStream(name(name), in));
    }

    public PutResult put(String name, InputStream in) {
        return put(name, in, ProgressListener.NONE);
    }

    /**
     * Stores a tar archive (ustar, GNU or PAX; the shape of podman and kubelet checkpoint
     * archives) as a directory image of its entries. Hostile archives (absolute paths,
     * {@code ..}, entries below symlinks, oversized headers) are refused with
     * {@link CairnException.LocalIo} before anything is committed. The stream is not closed.
     */
    public PutResult putTar(String name, InputStream tar, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return seen(new ImageUploader(cluster, progress, sessionLease, sessionRenewals, beforeCommit).putTar(name(name), tar));
    }

    public PutResult putTar(String name, InputStream tar) {
        return putTar(name, tar, ProgressListener.NONE);
    }

    /** Writes image {@code name} to {@code out} as a tar archive (a stream image becomes one file, {@code stream}). */
    public GetResult getTar(String name, OutputStream out, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageRestorer(cluster, progress).toTar(stat(name), out);
    }

    public GetResult getTar(String name, OutputStream out) {
        return getTar(name, out, ProgressListener.NONE);
    }

    /** Restores image {@code name} into {@code destination}, a new or empty directory; fsync'd on return. */
    public GetResult get(String name, Path destination, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageRestorer(cluster, progress).toDirectory(stat(name), destination);
    }

    public GetResult get(String name, Path destination) {
        return get(name, destination, ProgressListener.NONE);
    }

    /** Writes a stream image (or an image of one file) to {@code out}. The stream is not closed. */
    public GetResult get(String name, OutputStream out, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageRestorer(cluster, progress).toStream(stat(name), out);
    }

    public GetResult get(String name, OutputStream out) {
        return get(name, out, ProgressListener.NONE);
    }

    /** Images whose names start with {@code prefix}, sorted by name. */
    public List<ImageInfo> list(String prefix) {
        String p = prefix == null ? "" : prefix;
        if (cluster.config().sessionReads()) {
            return sessionRead(MessageType.LIST_IMAGES, new ImageMessages.ListImages(p, MAX_LIST, sessionIndex.get()).encode());
        }
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.LIST_IMAGES, new ImageMessages.ListImages(p, MAX_LIST).encode());
        return ImageMessages.decodeImages(reply.header());
    }

    /** The catalog entry of image {@code name}; {@link CairnException.ImageNotFound} when there is none. */
    public ImageInfo stat(String name) {
        ImageName imageName = name(name);
        List<ImageInfo> found;
        if (cluster.config().sessionReads()) {
            found = sessionRead(MessageType.GET_IMAGE, new ImageMessages.GetImage(imageName, sessionIndex.get()).encode());
        } else {
            found = ImageMessages.decodeImages(cluster.metadataCall(MessageType.GET_IMAGE, ImageMessages.encodeName(imageName)).header());
        }
        if (found.isEmpty()) {
            throw notFound(name);
        }
        return found.get(0);
    }

    /**
     * A catalog read answered by the node this client talks to once it has applied everything
     * this client has seen; the index it answered at becomes the floor of the next read.
     */
    private List<ImageInfo> sessionRead(MessageType type, java.nio.ByteBuffer request) {
        ImageMessages.SessionImages answer = ImageMessages.SessionImages.decode(cluster.metadataCall(type, request).header());
        sessionIndex.accumulateAndGet(answer.servedIndex(), Math::max);
        return answer.images();
    }

    private PutResult seen(PutResult put) {
        sessionIndex.accumulateAndGet(put.commitIndex(), Math::max);
        return put;
    }

    /**
     * The highest catalog index this client has seen (its commits and deletes, and with session
     * reads the index each read was answered at): what a session read waits for.
     */
    public long sessionIndex() {
        return sessionIndex.get();
    }

    /** Deletes image {@code name}; returns the commit index of the delete. Its chunks go at the next GC. */
    public long delete(String name) {
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.DELETE_IMAGE,
                new ImageMessages.DeleteImage(name(name), cluster.nextCall()).encode());
        long index = Messages.decodeLong(reply.header());
        sessionIndex.accumulateAndGet(index, Math::max);
        return index;
    }

    /** Each node's Raft role and indexes and chunk store size; a node that does not answer is left out. */
    public List<Messages.NodeStatus> nodeStatuses() {
        List<Messages.NodeStatus> statuses = new ArrayList<>();
        for (NodeConnection node : cluster.nodes()) {
            try {
                statuses.add(Messages.NodeStatus.decode(node.call(MessageType.NODE_STATUS, ByteBuffer.allocate(0)).get().header()));
            } catch (ExecutionException e) {
                // unreachable or failing: not listed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return statuses;
    }

    /**
     * Asks every node for its replication report: the last census ({@code REPORT}) or a repair
     * pass run now ({@code RUN}). A node that does not answer is reported in {@code failures}.
     */
    public NodeReports<ReplicationMessages.RepairReport> repair(ReplicationMessages.RepairMode mode, NodeListener listener) {
        return allNodes(MessageType.REPAIR, ReplicationMessages.encodeMode(mode), ReplicationMessages.RepairReport::decode,
                listener);
    }

    /** Asks every node to re-read and re-hash its chunks now, repairing bad ones from peers. */
    public NodeReports<ReplicationMessages.ScrubReport> scrub(NodeListener listener) {
        return allNodes(MessageType.SCRUB, ByteBuffer.allocate(0), ReplicationMessages.ScrubReport::decode, listener);
    }

    /** Told as each node answers an all-nodes request. */
    @FunctionalInterface
    public interface NodeListener {
        NodeListener NONE = (nodeId, done, total, error) -> {};

        void onNode(String nodeId, int done, int total, String error);
    }

    /** Answers of an all-nodes request: reports by node, and why the others failed. */
    public record NodeReports<T>(java.util.Map<String, T> reports, java.util.Map<String, String> failures) {}

    private <T> NodeReports<T> allNodes(MessageType type, ByteBuffer header, java.util.function.Function<ByteBuffer, T> decode,
                                        NodeListener listener) {
        java.util.Map<String, T> reports = new java.util.concurrent.ConcurrentSkipListMap<>();
        java.util.Map<String, String> failures = new java.util.concurrent.ConcurrentSkipListMap<>();
        List<NodeConnection> nodes = cluster.nodes();
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        List<java.util.concurrent.CompletableFuture<?>> calls = new ArrayList<>();
        for (NodeConnection node : nodes) {
            calls.add(node.call(type, header.duplicate(), List.of(), java.time.Duration.ofHours(6)).handle((reply, error) -> {
                String why = null;
                if (error != null) {
                    why = error instanceof NodeConnection.RemoteError remote ? remote.getMessage() : Cluster.rootMessage(error);
                    failures.put(node.nodeId(), why);
                } else {
                    reports.put(node.nodeId(), decode.apply(reply.header()));
                }
                listener.onNode(node.nodeId(), done.incrementAndGet(), nodes.size(), why);
                return null;
            }));
        }
        java.util.concurrent.CompletableFuture.allOf(calls.toArray(java.util.concurrent.CompletableFuture[]::new)).join();
        return new NodeReports<>(reports, failures);
    }

    // ---- membership

    /** How long a membership request may take: a Raft configuration change waits for the new peer's catch-up. */
    static final java.time.Duration MEMBERSHIP_TIMEOUT = java.time.Duration.ofMinutes(2);
    /** How long every node may take to apply a membership change to its catalog replica. */
    static final java.time.Duration MEMBERSHIP_APPLY_TIMEOUT = java.time.Duration.ofSeconds(30);

    /** The membership recorded in the catalog, and the peers of the Raft configuration, as one node knows them. */
    public MembershipMessages.MemberList members() {
        return MembershipMessages.MemberList.decode(cluster.metadataCall(MessageType.MEMBERS, ByteBuffer.allocate(0)).header());
    }

    /**
     * Adds a node, which must already run with {@code join: true} in its config: the Raft group
     * takes it in, the catalog records it as active (a placement target from then on), and a
     * repair pass on every node copies each chunk whose placement now includes it. {@code progress}
     * is told each step. Fails (the node stays added) when the census after the repair still finds
     * chunks below N; {@code cairn admin repair} then finishes the job.
     */
    public NodeChange addNode(MembershipMessages.Member node, java.util.function.Consumer<String> progress) {
        return addNode(node, progress, null, true);
    }

    /**
     * An add; {@code excused} (the node a replace will remove, maybe dead) need not answer, and
     * without {@code requireFullCensus} chunks below N are left to the removal that follows.
     */
    private NodeChange addNode(MembershipMessages.Member node, java.util.function.Consumer<String> progress, String excused,
                               boolean requireFullCensus) {
        progress.accept("adding " + node.id() + " (" + node.endpoint() + (node.zone().isEmpty() ? "" : ", zone " + node.zone())
                + ") to the Raft group and the catalog");
        long index = Messages.decodeLong(cluster.metadataCall(MessageType.ADD_NODE, node.encode(), null, MEMBERSHIP_TIMEOUT).header());
        progress.accept(node.id() + " is a member (membership index " + index + ")");
        awaitMembership(index, excused);
        NodeChange change = rebalance("add", node.id(), index, progress, excused);
        if (requireFullCensus && (change.chunksBelowReplicas() > 0 || !change.failedNodes().isEmpty())) {
            throw new CairnException("node " + node.id() + " was added, but " + change.chunksBelowReplicas()
                    + " chunks are still below N after the repair" + failedSuffix(change) + "; run cairn admin repair");
        }
        return change;
    }

    /**
     * Removes a node: marks it leaving (refused when fewer than N active nodes would remain), repairs
     * so that every chunk has N copies on the remaining placement nodes, checks that with a census,
     * and only then drops the node from the Raft group and the catalog. When the census finds
     * chunks below N or a node does not answer, the node stays (leaving) and this fails; run it
     * again once the cause is fixed. The node removed may be down (a lost disk): the census
     * counts the copies on the other nodes, which must all answer.
     */
    public NodeChange removeNode(String nodeId, java.util.function.Consumer<String> progress) {
        MembershipMessages.MemberList members = members();
        if (members.members().stream().noneMatch(m -> m.id().equals(nodeId))) {
            throw new CairnException("node " + nodeId + " is not a member; cairn admin nodes lists them");
        }
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

    /** Adds {@code replacement} (running with {@code join: true}), then removes {@code oldId}; see the two steps. */
    public NodeChange replaceNode(String oldId, MembershipMessages.Member replacement, java.util.function.Consumer<String> progress) {
        if (members().members().stream().noneMatch(m -> m.id().equals(oldId))) {
            throw new CairnException("node " + oldId + " is not a member; cairn admin nodes lists them");
        }
        // The old node may be down: the add does not wait for it, and the removal's census decides.
        NodeChange added = addNode(replacement, progress, oldId, false);
        NodeChange removed = removeNode(oldId, progress);
        return new NodeChange("replace", replacement.id(), removed.membershipIndex(), added.copiesMade() + removed.copiesMade(),
                added.bytesCopied() + removed.bytesCopied(), added.copiesDropped() + removed.copiesDropped(),
                removed.chunksCounted(), removed.chunksBelowReplicas(),
                removed.failedNodes());
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
        long deadline = System.nanoTime() + MEMBERSHIP_APPLY_TIMEOUT.toNanos();
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
            if (System.nanoTime() - deadline > 0) {
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
    private NodeChange rebalance(String action, String nodeId, long index, java.util.function.Consumer<String> progress,
                                 String excused) {
        progress.accept("repair: copying chunks to their new placement nodes on every node...");
        NodeReports<ReplicationMessages.RepairReport> pass = repair(ReplicationMessages.RepairMode.RUN,
                (node, done, total, error) -> progress.accept("repair: " + node + " " + (error == null ? "done" : "failed: " + error)
                        + " (" + done + "/" + total + ")"));
        long copies = 0;
        long bytes = 0;
        long dropped = 0;
        for (ReplicationMessages.RepairReport r : pass.reports().values()) {
            copies += r.copiesRepaired();
            bytes += r.bytesRepaired();
            dropped += r.surplusDropped();
        }
        progress.accept("census: counting copies on the placement nodes...");
        NodeReports<ReplicationMessages.RepairReport> census = repair(ReplicationMessages.RepairMode.RUN, NodeListener.NONE);
        java.util.Map<String, String> failed = new java.util.TreeMap<>(pass.failures());
        failed.putAll(census.failures());
        // The node being removed may be down; its copies do not count, so its answer is not needed.
        if (excused != null) {
            failed.remove(excused);
        }
        long counted = 0;
        long below = 0;
        for (ReplicationMessages.RepairReport r : census.reports().values()) {
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

    /** The cluster's membership and quorums as the contacted node reported them. */
    public Messages.ClusterInfo clusterInfo() {
        return cluster.info();
    }

    static CairnException.ImageNotFound notFound(String name) {
        return new CairnException.ImageNotFound("image '" + name + "' not found; cairn ls lists the images");
    }

    private static ImageName name(String name) {
        try {
            return new ImageName(name);
        } catch (ImageName.InvalidNameException e) {
            throw new CairnException.InvalidName(e.getMessage());
        }
    }

    @Override
    public void close() {
        cluster.close();
    }
}
