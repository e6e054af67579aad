package dev.cairn.client;

import dev.cairn.config.ClientConfig;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.protocol.GcMessages;
import dev.cairn.engine.protocol.Messages;
import dev.cairn.engine.protocol.MessageType;
import dev.cairn.engine.protocol.ReplicationMessages;
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

    /** The lease of a put's upload session: a put must commit within it, or it is refused and put again. */
    public static final java.time.Duration DEFAULT_SESSION_LEASE = java.time.Duration.ofMinutes(30);

    private final Cluster cluster;
    private volatile java.time.Duration sessionLease = DEFAULT_SESSION_LEASE;
    private volatile java.util.function.Consumer<java.util.UUID> beforeCommit = session -> {};

    private CairnClient(Cluster cluster) {
        this.cluster = cluster;
    }

    /** Connects to the cluster through the first of the configured nodes that answers. */
    public static CairnClient connect(ClientConfig config) {
        return new CairnClient(Cluster.connect(config));
    }

    /** Sets the upload session lease of later puts (default {@link #DEFAULT_SESSION_LEASE}). */
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
        return new ImageUploader(cluster, progress, sessionLease, beforeCommit).putPath(name(name), source);
    }

    public PutResult put(String name, Path source) {
        return put(name, source, ProgressListener.NONE);
    }

    /** Stores everything {@code in} yields as a single-stream image. The stream is not closed. */
    public PutResult put(String name, InputStream in, ProgressListener progress) {
        return new ImageUploader(cluster, progress, sessionLease, beforeCommit).putStream(name(name), in);
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
        return new ImageUploader(cluster, progress, sessionLease, beforeCommit).putTar(name(name), tar);
    }

    public PutResult putTar(String name, InputStream tar) {
        return putTar(name, tar, ProgressListener.NONE);
    }

    /** Writes image {@code name} to {@code out} as a tar archive (a stream image becomes one file, {@code stream}). */
    public GetResult getTar(String name, OutputStream out, ProgressListener progress) {
        return new ImageRestorer(cluster, progress).toTar(stat(name), out);
    }

    public GetResult getTar(String name, OutputStream out) {
        return getTar(name, out, ProgressListener.NONE);
    }

    /** Restores image {@code name} into {@code destination}, a new or empty directory; fsync'd on return. */
    public GetResult get(String name, Path destination, ProgressListener progress) {
        return new ImageRestorer(cluster, progress).toDirectory(stat(name), destination);
    }

    public GetResult get(String name, Path destination) {
        return get(name, destination, ProgressListener.NONE);
    }

    /** Writes a stream image (or an image of one file) to {@code out}. The stream is not closed. */
    public GetResult get(String name, OutputStream out, ProgressListener progress) {
        return new ImageRestorer(cluster, progress).toStream(stat(name), out);
    }

    public GetResult get(String name, OutputStream out) {
        return get(name, out, ProgressListener.NONE);
    }

    /** Images whose names start with {@code prefix}, sorted by name. */
    public List<ImageInfo> list(String prefix) {
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.LIST_IMAGES,
                new Messages.ListImages(prefix == null ? "" : prefix, MAX_LIST).encode());
        return Messages.decodeImages(reply.header());
    }

    /** The catalog entry of image {@code name}; {@link CairnException.ImageNotFound} when there is none. */
    public ImageInfo stat(String name) {
        ImageName imageName = name(name);
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.GET_IMAGE, Messages.encodeName(imageName));
        List<ImageInfo> found = Messages.decodeImages(reply.header());
        if (found.isEmpty()) {
            throw notFound(name);
        }
        return found.get(0);
    }

    /** Deletes image {@code name}; returns the commit index of the delete. Its chunks go at the next GC. */
    public long delete(String name) {
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.DELETE_IMAGE,
                new Messages.DeleteImage(name(name), cluster.nextCall()).encode());
        return Messages.decodeLong(reply.header());
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
