package dev.cairn.client;

import dev.cairn.config.ClientConfig;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MembershipMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.QuotaMessages;
import dev.cairn.protocol.ReplicationMessages;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Administration of a Cairn cluster: node health, membership changes, repair, scrub and garbage
 * collection. Applications that only store and restore images use {@link CairnClient}.
 *
 * <pre>{@code
 * try (CairnClient cairn = CairnClient.connect(config)) {
 *     GcReport gc = CairnAdmin.of(cairn).gc(Duration.ofSeconds(90));
 * }
 * }</pre>
 */
public final class CairnAdmin implements AutoCloseable {

    /** How often a running GC epoch is asked for its progress. */
    static final Duration GC_PROGRESS_POLL = Duration.ofMillis(250);

    private final Cluster cluster;
    /** Whether {@link #close} closes {@link #cluster}: not when it is a client's. */
    private final boolean ownsCluster;

    private CairnAdmin(Cluster cluster, boolean ownsCluster) {
        this.cluster = cluster;
        this.ownsCluster = ownsCluster;
    }

    /** Connects to the cluster through the first of the configured nodes that answers. */
    public static CairnAdmin connect(ClientConfig config) {
        return new CairnAdmin(Cluster.connect(config, null, dev.cairn.engine.Clock.SYSTEM), true);
    }

    /** Administration through {@code client}'s connections; closing it leaves the client open. */
    public static CairnAdmin of(CairnClient client) {
        return new CairnAdmin(client.cluster(), false);
    }

    /** Told as each node answers an all-nodes request. */
    @FunctionalInterface
    public interface NodeListener {
        NodeListener NONE = (nodeId, done, total, error) -> {};

        /** {@code error} is null when the node answered, else why it did not. */
        void onNode(String nodeId, int done, int total, String error);
    }

    /** Answers of an all-nodes request: reports by node, and why the others failed. */
    public record NodeReports<T>(Map<String, T> reports, Map<String, String> failures) {}

    /** The cluster's membership and quorums as the contacted node reported them. */
    public ClusterInfo clusterInfo() {
        return ClusterInfo.of(cluster.info());
    }

    /** Each node's Raft role and indexes and chunk store size; a node that does not answer is left out. */
    public List<NodeStatus> nodeStatuses() {
        List<NodeStatus> statuses = new ArrayList<>();
        for (NodeConnection node : cluster.nodes()) {
            try {
                statuses.add(NodeStatus.of(Messages.NodeStatus.decode(
                        node.call(MessageType.NODE_STATUS, ByteBuffer.allocate(0)).get().header())));
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
    public NodeReports<RepairReport> repair(RepairMode mode, NodeListener listener) {
        return allNodes(MessageType.REPAIR, ReplicationMessages.encodeMode(mode.toWire()),
                header -> RepairReport.of(ReplicationMessages.RepairReport.decode(header)), listener);
    }

    /** Asks every node to re-read and re-hash its chunks now, repairing bad ones from peers. */
    public NodeReports<ScrubReport> scrub(NodeListener listener) {
        return allNodes(MessageType.SCRUB, ByteBuffer.allocate(0),
                header -> ScrubReport.of(ReplicationMessages.ScrubReport.decode(header)), listener);
    }

    private <T> NodeReports<T> allNodes(MessageType type, ByteBuffer header, Function<ByteBuffer, T> decode,
                                        NodeListener listener) {
        Map<String, T> reports = new ConcurrentSkipListMap<>();
        Map<String, String> failures = new ConcurrentSkipListMap<>();
        List<NodeConnection> nodes = cluster.nodes();
        AtomicInteger done = new AtomicInteger();
        List<CompletableFuture<?>> calls = new ArrayList<>();
        for (NodeConnection node : nodes) {
            calls.add(node.call(type, header.duplicate(), List.of(), Duration.ofHours(6)).handle((reply, error) -> {
                String why = null;
                if (error != null) {
                    why = Failures.describe(node, error);
                    failures.put(node.nodeId(), why);
                } else {
                    reports.put(node.nodeId(), decode.apply(reply.header()));
                }
                listener.onNode(node.nodeId(), done.incrementAndGet(), nodes.size(), why);
                return null;
            }));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
        return new NodeReports<>(reports, failures);
    }

    /** The membership recorded in the catalog, and the peers of the Raft configuration, as one node knows them. */
    public Members members() {
        return Members.of(membersOnWire());
    }

    MembershipMessages.MemberList membersOnWire() {
        return MembershipMessages.MemberList.decode(cluster.metadataCall(MessageType.MEMBERS, ByteBuffer.allocate(0)).header());
    }

    /**
     * Adds a node, which must already run with {@code join: true} in its config: the Raft group
     * takes it in, the catalog records it as active (a placement target from then on), and a
     * repair pass on every node copies each chunk whose placement now includes it. {@code progress}
     * is told each step. Fails (the node stays added) when the census after the repair still finds
     * chunks below N; {@code cairn admin repair} then finishes the job.
     */
    public NodeChange addNode(Member node, Consumer<String> progress) {
        return new MembershipChange(this, cluster).add(node, progress);
    }

    /**
     * Removes a node: marks it leaving (refused when fewer than N active nodes would remain), repairs
     * so that every chunk has N copies on the remaining placement nodes, checks that with a census,
     * and only then drops the node from the Raft group and the catalog. When the census finds
     * chunks below N or a node does not answer, the node stays (leaving) and this fails; run it
     * again once the cause is fixed. The node removed may be down (a lost disk): the census
     * counts the copies on the other nodes, which must all answer.
     */
    public NodeChange removeNode(String nodeId, Consumer<String> progress) {
        return new MembershipChange(this, cluster).remove(nodeId, progress);
    }

    /** Adds {@code replacement} (running with {@code join: true}), then removes {@code oldId}; see the two steps. */
    public NodeChange replaceNode(String oldId, Member replacement, Consumer<String> progress) {
        return new MembershipChange(this, cluster).replace(oldId, replacement, progress);
    }

    /** Every chunk image {@code info} references (manifest tree and data), read and verified from the cluster. */
    public Set<ChunkId> referencedChunks(ImageInfo info) {
        return new ImageRestorer(cluster, ProgressListener.NONE).referencedChunks(info);
    }

    /**
     * Runs one garbage collection epoch with a node as the coordinator (the first that answers),
     * waiting at most {@code maxSessionWait} for upload sessions older than the epoch. The report
     * says what each node freed, or why the epoch was abandoned.
     */
    public GcReport gc(Duration maxSessionWait) {
        return gc(maxSessionWait, line -> {});
    }

    /**
     * As {@link #gc(Duration)}, handing each of the coordinator's progress lines (its phases, the
     * manifest walk, each node's sweep) to {@code progress} while the epoch runs.
     */
    public GcReport gc(Duration maxSessionWait, Consumer<String> progress) {
        List<String> failures = new ArrayList<>();
        UUID runId = UUID.randomUUID();
        for (NodeConnection node : cluster.nodes()) {
            CompletableFuture<NodeConnection.Reply> run = node.call(MessageType.GC_RUN,
                    new GcMessages.Run(maxSessionWait.toMillis(), runId).encode(), List.of(),
                    maxSessionWait.plus(Duration.ofHours(6)));
            int seen = 0;
            try {
                while (true) {
                    try {
                        GcMessages.RunReport report = GcMessages.RunReport.decode(
                                run.get(GC_PROGRESS_POLL.toMillis(), TimeUnit.MILLISECONDS).header());
                        report.log().stream().skip(seen).forEach(progress);
                        return GcReport.of(report);
                    } catch (TimeoutException stillRunning) {
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
                            + Failures.cause(e.getCause()) + "); run cairn admin gc again", e.getCause());
                }
                failures.add(Failures.describe(node, e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CairnException("interrupted");
            }
        }
        throw new CairnException.ClusterUnreachable("cluster unreachable: no node answered (" + String.join("; ", failures)
                + "); start the nodes or check --cluster", null);
    }

    /** Hands the run's new progress lines to {@code progress}; returns how many. A failed poll shows nothing. */
    private static int pollGcProgress(NodeConnection node, UUID runId, int seen, Consumer<String> progress)
            throws InterruptedException {
        try {
            GcMessages.Progress p = GcMessages.Progress.decode(node.call(MessageType.GC_STATUS,
                    new GcMessages.StatusRequest(runId, seen).encode()).get(10, TimeUnit.SECONDS).header());
            p.lines().forEach(progress);
            return p.lines().size();
        } catch (ExecutionException | TimeoutException e) {
            return 0; // the run's own answer says whether the node is gone
        }
    }

    // ---- access tokens

    /** A token just created, with the one copy of its secret there will ever be: {@code token()} is what clients present. */
    public record CreatedToken(AccessToken info, String token) {}

    /**
     * Creates a token for {@code tenant} with {@code role} ({@code read}, {@code write} or
     * {@code admin}) limited to names under {@code prefixes} (none: every name). The secret is drawn
     * here; the cluster records only its SHA-256.
     */
    public CreatedToken createToken(String tenant, String role, List<String> prefixes) {
        String token = TokenSecrets.newToken();
        AuthMessages.TokenInfo info;
        try {
            info = new AuthMessages.TokenInfo(TokenSecrets.idOf(token), tenant, AuthMessages.Role.parse(role), prefixes, 0);
        } catch (IllegalArgumentException e) {
            throw new CairnException(e.getMessage());
        }
        cluster.metadataCall(MessageType.TOKEN_CREATE, new AuthMessages.CreateToken(info, TokenSecrets.secretHash(token)).encode());
        AccessToken created = tokens().stream().filter(t -> t.id().equals(info.id())).findFirst()
                .orElse(AccessToken.of(info));
        return new CreatedToken(created, token);
    }

    /** Every token the cluster records, in id order (never a secret). */
    public List<AccessToken> tokens() {
        return AuthMessages.TokenList.decode(cluster.metadataCall(MessageType.TOKEN_LIST, ByteBuffer.allocate(0)).header())
                .tokens().stream().map(AccessToken::of).toList();
    }

    /** Revokes token {@code id}: every node refuses it once its catalog replica applied the revocation. */
    public void revokeToken(String id) {
        try {
            cluster.metadataCall(MessageType.TOKEN_REVOKE, AuthMessages.encodeString(id));
        } catch (CairnException.ImageNotFound e) {
            throw new CairnException(e.getMessage()); // a missing token is not a missing image (exit 3)
        }
    }

    // ---- byte quotas

    /**
     * Sets the byte quota of name prefix {@code prefix} (ending in {@code /}) to {@code maxBytes}
     * of logical bytes: commits under it that would hold more are refused. A new quota counts the
     * images already there. Returns the quota as the cluster then records it.
     */
    public Quota setQuota(String prefix, long maxBytes) {
        QuotaMessages.SetQuota set;
        try {
            set = new QuotaMessages.SetQuota(prefix, maxBytes);
        } catch (IllegalArgumentException e) {
            throw new CairnException(e.getMessage());
        }
        cluster.metadataCall(MessageType.QUOTA_SET, set.encode());
        return quotas().stream().filter(q -> q.prefix().equals(prefix)).findFirst()
                .orElse(new Quota(prefix, 0, maxBytes));
    }

    /** Every byte quota, in prefix order, with the bytes each prefix holds now. */
    public List<Quota> quotas() {
        return QuotaMessages.QuotaList.decode(cluster.metadataCall(MessageType.QUOTA_LIST, ByteBuffer.allocate(0)).header())
                .quotas().stream().map(q -> new Quota(q.prefix(), q.usedBytes(), q.maxBytes())).toList();
    }

    /** Removes the byte quota of {@code prefix}: commits under it are no longer limited. */
    public void removeQuota(String prefix) {
        try {
            cluster.metadataCall(MessageType.QUOTA_REMOVE, AuthMessages.encodeString(prefix));
        } catch (CairnException.ImageNotFound e) {
            throw new CairnException(e.getMessage()); // a missing quota is not a missing image (exit 3)
        }
    }

    @Override
    public void close() {
        if (ownsCluster) {
            cluster.close();
        }
    }
}
