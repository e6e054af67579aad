package dev.cairn.server.meta;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.engine.Clock;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogException.Code;
import dev.cairn.server.meta.CatalogMessages.BeginGcEpoch;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.CloseSession;
import dev.cairn.server.meta.CatalogMessages.GcMaySweep;
import dev.cairn.server.meta.CatalogMessages.OpenSession;
import dev.cairn.server.meta.CatalogMessages.RenewSession;
import dev.cairn.server.meta.CatalogMessages.CommitImage;
import dev.cairn.server.meta.CatalogMessages.CommitInSession;
import dev.cairn.server.meta.CatalogMessages.DeleteImage;
import dev.cairn.server.meta.CatalogMessages.GetImage;
import dev.cairn.server.meta.CatalogMessages.ListImages;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.AddMember;
import dev.cairn.server.meta.CatalogMessages.MarkLeaving;
import dev.cairn.server.meta.CatalogMessages.RemoveMember;
import dev.cairn.server.meta.CatalogMessages.SeedMembers;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToLongFunction;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's member of the metadata Raft group, and the image catalog API on top of it.
 *
 * <p>Writes go through the Raft log and complete only after a majority has fsync'd the entry
 * and it has been applied. Reads are linearizable (Ratis read index). Every operation fails,
 * within {@link #OPERATION_TIMEOUT}, with a {@link CatalogException}.
 */
public final class MetaService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetaService.class);

    /** The one metadata group of a cluster; the same id on every node, derived from a fixed name. */
    static final RaftGroupId GROUP_ID =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("cairn-metadata".getBytes(StandardCharsets.UTF_8)));

    /** Upper bound of any catalog operation, leader elections and client retries included. */
    static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(15);

    // Election timeouts for a LAN or loopback cluster: heartbeats are much more frequent, a
    // leader loss is noticed in 1-2 s.
    private static final TimeDuration ELECTION_TIMEOUT_MIN = TimeDuration.valueOf(1, TimeUnit.SECONDS);
    private static final TimeDuration ELECTION_TIMEOUT_MAX = TimeDuration.valueOf(2, TimeUnit.SECONDS);
    // Catalog entries are a few hundred bytes; small segments keep replay and preallocation cheap.
    private static final SizeInBytes LOG_SEGMENT_SIZE_MAX = SizeInBytes.valueOf("8MB");
    private static final SizeInBytes LOG_PREALLOCATED_SIZE = SizeInBytes.valueOf("1MB");
    // A catalog entry is a few hundred bytes, so 10 000 entries are a few MB of log and replay
    // in well under a second; a checkpoint costs one memtable flush and a few hard links. Ratis'
    // default (400 000 entries) would keep ~100 MB of log for a catalog that is itself tiny.
    private static final long SNAPSHOT_EVERY_ENTRIES = 10_000;
    // Ratis purges whole closed segments; a gap of 1024 entries keeps purges rare and cheap.
    private static final int PURGE_GAP_ENTRIES = 1024;
    // A call's reply is kept until the log has moved this many entries past it. A retry comes
    // within seconds (OPERATION_TIMEOUT bounds a server's attempt, the Cairn client's retries are
    // bounded too); each commit takes about two log entries (Ratis adds a metadata entry), so
    // 200 000 entries are hours at a realistic rate and still minutes at 1000 commits/s. At
    // ~100 bytes per recorded call the table stays below ~20 MB.
    private static final long CALL_WINDOW_ENTRIES = 200_000;
    // Two snapshots: the leader may still be sending the previous one when it takes the next.
    private static final int SNAPSHOTS_RETAINED = 2;
    private static final TimeDuration CLIENT_REQUEST_TIMEOUT = TimeDuration.valueOf(3, TimeUnit.SECONDS);
    private static final TimeDuration CLIENT_RETRY_SLEEP = TimeDuration.valueOf(500, TimeUnit.MILLISECONDS);
    // 30 attempts 500 ms apart: about OPERATION_TIMEOUT when attempts fail fast (refused
    // connections); attempts that time out are cut off by OPERATION_TIMEOUT itself.
    private static final int CLIENT_MAX_ATTEMPTS = 30;
    private static final int PROBE_TIMEOUT_MS = 300;
    private static final long READ_RETRY_SLEEP_MS = 200;
    private static final long AWAIT_LEADER_POLL_MS = 50;

    private final NodeConfig config;
    private final RaftServer server;
    /**
     * Writes: ordered, retried by Ratis (same client and call id, so the retry cache dedups them).
     * Replaced when Ratis has closed it ({@link #renewIfClosed}).
     */
    private volatile RaftClient client;
    /**
     * Reads: single attempts at the leader this node knows; {@link #read} retries them. Replaced
     * when Ratis has closed it, as the write client is.
     */
    private volatile RaftClient readClient;
    /** The group the clients talk to, to build a replacement. */
    private final RaftGroup group;
    /** Registries holding this node's gauges, emptied of them at close. */
    private final List<MetricRegistry> metricRegistries = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    /** Retry delays and reachability probes; never blocks a Ratis thread. */
    private final ScheduledExecutorService scheduler;

    private MetaService(NodeConfig config, RaftServer server, RaftGroup group) {
        this.config = config;
        this.server = server;
        this.group = group;
        this.client = newWriteClient(group);
        this.readClient = newReadClient(group);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cairn-meta-" + config.nodeId());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts this node's Ratis server in the metadata group (peers: every node of the config on
     * its raft port; Raft storage in {@code dataDir/raft}, the catalog in {@code dataDir/catalog})
     * and a client to the group. A node restarted with the same config rejoins with its data.
     */
    public static MetaService start(NodeConfig config) throws IOException {
        return start(config, Tuning.DEFAULT);
    }

    /**
     * Log and snapshot sizes; production uses {@link #DEFAULT}, tests shrink them so that a
     * snapshot, a purge and a snapshot install happen within a few dozen commits.
     *
     * @param snapshotEveryEntries take a Raft snapshot after this many applied entries
     * @param segmentSizeMax close a log segment at this size (only closed segments are purged)
     * @param purgeGapEntries purge the log only when it can drop at least this many entries
     * @param callWindowEntries keep a call's reply until the log is this many entries past it;
     *     part of apply, so every node of a group must use the same value
     * @param seedAtStart whether a new node offers its config's node list as the membership at
     *     start; tests turn it off to act as a cluster started on a build without membership
     */
    record Tuning(long snapshotEveryEntries, SizeInBytes segmentSizeMax, int purgeGapEntries, long callWindowEntries,
                  boolean seedAtStart) {
        static final Tuning DEFAULT =
                new Tuning(SNAPSHOT_EVERY_ENTRIES, LOG_SEGMENT_SIZE_MAX, PURGE_GAP_ENTRIES, CALL_WINDOW_ENTRIES);

        Tuning(long snapshotEveryEntries, SizeInBytes segmentSizeMax, int purgeGapEntries, long callWindowEntries) {
            this(snapshotEveryEntries, segmentSizeMax, purgeGapEntries, callWindowEntries, true);
        }
    }

    static MetaService start(NodeConfig config, Tuning tuning) throws IOException {
        return start(config, tuning, Clock.SYSTEM);
    }

    /** As {@link #start(NodeConfig)}; {@code clock} is the clock a leader stamps into session and GC entries. */
    static MetaService start(NodeConfig config, Tuning tuning, Clock clock) throws IOException {
        NodeAddress self = config.self();
        Path raftDir = config.dataDir().resolve("raft");
        Path catalogDir = config.dataDir().resolve("catalog");
        Files.createDirectories(raftDir);
        RaftGroup group = group(config.nodes());

        // Ratis keeps a group's storage in raftDir/<group uuid>; FORMAT only the first time.
        boolean existing = Files.isDirectory(raftDir.resolve(GROUP_ID.getUuid().toString()));
        // A joining node starts in the group with no peers: it neither votes nor campaigns, and
        // waits until the leader adds it (setConfiguration) and sends it the log. Once it has
        // storage, its configuration comes from its log, like every other node's.
        boolean joining = config.join() && !existing;
        RaftServer server = RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf(self.id()))
                .setGroup(joining ? RaftGroup.valueOf(GROUP_ID) : group)
                .setProperties(serverProperties(raftDir, self, tuning))
                .setStateMachine(new CatalogStateMachine(catalogDir, tuning.callWindowEntries(), clock))
                .setOption(existing ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
                .build();
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            closeQuietly(server);
            throw e;
        }
        MetaService service;
        try {
            service = new MetaService(config, server, group);
        } catch (RuntimeException e) {
            closeQuietly(server);
            throw e;
        }
        LOG.info("metadata node {} started in group {} ({} storage, {})", self.id(), GROUP_ID,
                existing ? "recovered" : "new", joining ? "waiting to be added to the group" : config.nodes().size() + " peers");
        service.stateMachine().onConfigurationChanged(service::syncClientPeers);
        service.syncClientPeers();
        // Only a new cluster seeds at start. On a cluster that ran an older build, a seed entry
        // (format version 4) in the log would stop the replicas not yet upgraded; there the first
        // membership command seeds instead (requireSeeded), after the operator upgraded every node.
        if (!config.join() && !existing && tuning.seedAtStart()) {
            service.seedMembershipInBackground();
        }
        return service;
    }

    static RaftGroup group(List<NodeAddress> nodes) {
        return RaftGroup.valueOf(GROUP_ID, nodes.stream()
                .map(n -> RaftPeer.newBuilder().setId(n.id()).setAddress(n.host() + ":" + n.raftPort()).build())
                .toList());
    }

    private static RaftProperties serverProperties(Path raftDir, NodeAddress self, Tuning tuning) {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.NETTY);
        // Bind where the peers are told to connect, not on every interface.
        NettyConfigKeys.Server.setHost(p, self.host());
        NettyConfigKeys.Server.setPort(p, self.raftPort());
        RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, ELECTION_TIMEOUT_MIN);
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, ELECTION_TIMEOUT_MAX);
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, tuning.segmentSizeMax());
        RaftServerConfigKeys.Log.setPreallocatedSize(p,
                SizeInBytes.valueOf(Math.min(LOG_PREALLOCATED_SIZE.getSize(), tuning.segmentSizeMax().getSize())));
        // Snapshots are RocksDB checkpoints (CatalogSnapshots). The log is purged up to the
        // latest snapshot even when a follower is behind it: that follower then catches up by
        // snapshot install, which for a catalog of image roots is cheap and keeps disk bounded.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, tuning.snapshotEveryEntries());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, SNAPSHOTS_RETAINED);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, tuning.purgeGapEntries());
        // The leader sends its snapshot files in chunks over the server RPC (ratis-netty
        // implements InstallSnapshot); the default, but it is what the catch-up relies on.
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
        // Durability: Ratis fsyncs the log before an entry counts as appended (the default;
        // unsafe-flush stays off), so a commit acknowledged here is on a majority's disks.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
        return p;
    }

    private static RaftClient newWriteClient(RaftGroup group) {
        return newClient(group, RetryPolicies.retryUpToMaximumCountWithFixedSleep(CLIENT_MAX_ATTEMPTS, CLIENT_RETRY_SLEEP));
    }

    private static RaftClient newReadClient(RaftGroup group) {
        return newClient(group, RetryPolicies.noRetry());
    }

    private static RaftClient newClient(RaftGroup group, org.apache.ratis.retry.RetryPolicy retries) {
        return RaftClient.newBuilder().setProperties(clientProperties()).setRaftGroup(group).setRetryPolicy(retries).build();
    }

    /**
     * After a failed request: if Ratis closed the client that sent it (an ordered client's window
     * to a server closes for good once a request's retries ran out, which for the read client,
     * with no retries, is its first failure), builds a new one, so that this node's next requests
     * go through again. Seen in a chaos run: after faults, every read of one node failed at once
     * with "SlidingWindow$Client ... is closed" while the cluster had a leader.
     */
    private void renewIfClosed(RaftClient failed, Throwable cause) {
        if (closed || !causedByClosedClient(cause)) {
            return;
        }
        String which;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (failed == client) {
                client = newWriteClient(group);
                addCurrentPeers(client);
                which = "write";
            } else if (failed == readClient) {
                readClient = newReadClient(group);
                addCurrentPeers(readClient);
                which = "read";
            } else {
                return; // renewed already by another failed request
            }
        }
        LOG.warn("metadata {} client was closed by Ratis ({}); replaced it", which, rootMessage(cause));
        closeQuietly(failed);
    }

    /** A test seam: closes both clients as Ratis does when a request's retries run out. */
    void closeClientsForTest() {
        closeQuietly(client);
        closeQuietly(readClient);
    }

    private static boolean causedByClosedClient(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof AlreadyClosedException) {
                return true;
            }
        }
        return false;
    }

    private static RaftProperties clientProperties() {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.NETTY);
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, CLIENT_REQUEST_TIMEOUT);
        return p;
    }

    /**
     * Commits a new image; completes with the log index of the commit. Completion means a
     * majority has fsync'd the entry to its Raft log and the leader has applied it.
     */
    public CompletableFuture<Long> commitImage(ImageName name, ImageRoot root) {
        return submit(new CommitImage(name, root)).thenApply(Reply::index);
    }

    /**
     * Commits a new image on behalf of call {@code callId} of Cairn client {@code clientId}, exactly
     * once: a retry of the same call (same ids, e.g. after a lost reply or through another server)
     * completes with the first result (the same log index, or the same refusal) and never commits
     * a second time. A client numbers its calls and never reuses a pair for a different request.
     * Retries are recognised until the log has moved {@code 200 000} entries past the first apply.
     */
    public CompletableFuture<Long> commitImage(ImageName name, ImageRoot root, UUID clientId, long callId) {
        return submit(new Call(clientId, callId, new CommitImage(name, root))).thenApply(Reply::index);
    }

    /**
     * Commits an image whose chunks were uploaded in upload session {@code sessionId}, exactly
     * once for ({@code clientId}, {@code callId}). Fails with SESSION_EXPIRED when the session is
     * not open or its lease has run out in log time: GC may have swept chunks it relied on. With
     * {@code closesSession} a commit that succeeds also closes the session (COMMIT_CLOSING_SESSION,
     * format version 6, written only for clients that ask, so only after the nodes are upgraded).
     */
    public CompletableFuture<Long> commitImage(ImageName name, ImageRoot root, UUID sessionId, UUID clientId, long callId,
                                               boolean closesSession) {
        return submit(new Call(clientId, callId, new CommitInSession(name, root, sessionId, 0, closesSession)))
                .thenApply(Reply::index);
    }

    /**
     * The current GC epoch on this replica (0 before the first). Not linearizable: a coordinator
     * uses it to choose the next epoch, and BEGIN_GC_EPOCH refuses a stale choice.
     */
    public long gcEpoch() {
        try {
            return stateMachine().gcState().epoch();
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "cannot read the GC epoch: " + e.getMessage(), e);
        }
    }

    /** Deletes an image; completes with the log index of the delete. */
    public CompletableFuture<Long> deleteImage(ImageName name) {
        return submit(new DeleteImage(name)).thenApply(Reply::index);
    }

    /** Deletes an image exactly once for call {@code callId} of client {@code clientId}; see {@link #commitImage(ImageName, ImageRoot, UUID, long)}. */
    public CompletableFuture<Long> deleteImage(ImageName name, UUID clientId, long callId) {
        return submit(new Call(clientId, callId, new DeleteImage(name))).thenApply(Reply::index);
    }

    /**
     * Opens upload session {@code sessionId} for {@code clientId} with a lease of {@code lease}
     * (at most 24 h), counted in log time: the leader stamps its clock into the entry. Opening
     * an open session of the same client again renews its lease. Completes with the log index
     * at which the session was first opened; GC epochs that begin after it do not wait for it.
     */
    public CompletableFuture<Long> openSession(UUID sessionId, UUID clientId, Duration lease) {
        OpenSession open;
        try {
            open = new OpenSession(sessionId, clientId, lease.toMillis(), 0);
        } catch (IllegalArgumentException | NullPointerException e) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, e.getMessage(), e));
        }
        return submit(open).thenApply(Reply::index);
    }

    /**
     * Extends the lease of open upload session {@code sessionId} to {@code lease} (at most 24 h)
     * past the entry's log time; a lease never shrinks. Fails with SESSION_EXPIRED when the
     * session is not open or its lease has already run out in log time: it is never re-created,
     * since a GC epoch may have stopped waiting for it. Completes with the renewal's log index.
     */
    public CompletableFuture<Long> renewSession(UUID sessionId, Duration lease) {
        RenewSession renew;
        try {
            renew = new RenewSession(sessionId, lease.toMillis(), 0);
        } catch (IllegalArgumentException | NullPointerException e) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, e.getMessage(), e));
        }
        return submit(renew).thenApply(Reply::index);
    }

    /** Closes an upload session (its commit is done or abandoned); fails with NOT_FOUND if it is not open. */
    public CompletableFuture<Long> closeSession(UUID sessionId) {
        return submit(new CloseSession(sessionId)).thenApply(Reply::index);
    }

    /** Begins GC epoch {@code epoch}, which must be the current epoch + 1 (else INVALID). */
    public CompletableFuture<Long> beginGcEpoch(long epoch) {
        if (epoch < 1) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, "GC epoch " + epoch + " is not positive"));
        }
        return submit(new BeginGcEpoch(epoch, 0)).thenApply(Reply::index);
    }

    /**
     * Records that epoch {@code epoch} may be swept. Fails with BUSY, saying how long to wait,
     * while an upload session opened before the epoch began is still open and leased.
     */
    public CompletableFuture<Long> gcMaySweep(long epoch) {
        if (epoch < 1) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, "GC epoch " + epoch + " is not positive"));
        }
        return submit(new GcMaySweep(epoch, 0)).thenApply(Reply::index);
    }

    /** Linearizable read of one image. */
    public CompletableFuture<Optional<ImageInfo>> getImage(ImageName name) {
        return read(new GetImage(name)).thenApply(r -> r.images().stream().findFirst());
    }

    /** Linearizable list of the images whose name starts with {@code prefix}, sorted, at most {@code limit}. */
    public CompletableFuture<List<ImageInfo>> listImages(String prefix, int limit) {
        String problem = CatalogMessages.listProblem(prefix, limit);
        if (problem != null) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, problem));
        }
        return read(new ListImages(prefix, limit)).thenApply(Reply::images);
    }

    /** What a session read saw, and the catalog index this node had applied when it answered. */
    public record SessionRead(List<ImageInfo> images, long servedIndex) {}

    /**
     * One image as this node's own catalog replica holds it once it has applied {@code minIndex}:
     * a session read (read-your-writes and monotonic reads for a client that carries the highest
     * index it has seen), served without the leader, so possibly behind the leader. Fails with
     * UNAVAILABLE when the replica does not reach {@code minIndex} in time.
     */
    public CompletableFuture<SessionRead> getImageAtLeast(ImageName name, long minIndex) {
        return readLocally(new GetImage(name), minIndex);
    }

    /** As {@link #listImages}, as a session read (see {@link #getImageAtLeast}). */
    public CompletableFuture<SessionRead> listImagesAtLeast(String prefix, int limit, long minIndex) {
        String problem = CatalogMessages.listProblem(prefix, limit);
        if (problem != null) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, problem));
        }
        return readLocally(new ListImages(prefix, limit), minIndex);
    }

    private CompletableFuture<SessionRead> readLocally(Request request, long minIndex) {
        CatalogStateMachine machine;
        try {
            machine = stateMachine();
        } catch (CatalogException e) {
            return CompletableFuture.failedFuture(e);
        }
        // The query runs once this replica has applied minIndex, against its own state.
        return machine.appliedAtLeast(minIndex, OPERATION_TIMEOUT)
                .thenCompose(applied -> machine.query(message(request)))
                .handle((answer, error) -> {
                    if (error != null) {
                        Throwable cause = unwrap(error);
                        if (cause instanceof TimeoutException) {
                            throw new CatalogException(Code.UNAVAILABLE, "node " + config.nodeId()
                                    + " has applied the catalog up to index " + machine.getLastAppliedTermIndex().getIndex()
                                    + ", not yet to " + minIndex + " (the session's last index), within "
                                    + OPERATION_TIMEOUT.toSeconds() + " s; retry, or read through the leader", cause);
                        }
                        throw cause instanceof CatalogException c ? c
                                : new CatalogException(Code.UNAVAILABLE, "session read failed: " + cause.getMessage(), cause);
                    }
                    Reply reply = checkStatus(request, answer);
                    return new SessionRead(reply.images(), machine.getLastAppliedTermIndex().getIndex());
                });
    }

    // ---- membership

    /** How often a node that finds no membership in its catalog offers the config's node list. */
    private static final long SEED_RETRY_MS = 1000;
    /** How long a Raft configuration change may take, the new peer's catch-up included. */
    private static final TimeDuration ADMIN_REQUEST_TIMEOUT = TimeDuration.valueOf(20, TimeUnit.SECONDS);
    private static final int ADMIN_MAX_ATTEMPTS = 3;

    private final java.util.concurrent.atomic.AtomicBoolean seeding = new java.util.concurrent.atomic.AtomicBoolean();
    /** Raft configuration changes, one at a time; they block on Ratis' admin call. */
    private final java.util.concurrent.ExecutorService admin = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "cairn-meta-admin");
        t.setDaemon(true);
        return t;
    });

    /**
     * The membership this node's catalog replica has applied (not linearizable: it may lag the
     * leader by the entries in flight). Empty, index 0, until the first membership is seeded.
     */
    public Membership membership() {
        try {
            return stateMachine().membership();
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "cannot read the membership: " + e.getMessage(), e);
        }
    }

    /**
     * Until the catalog holds a membership, offers the config's node list as the first one, once
     * a second. Every node does; the first entry applied wins and later ones are refused (EXISTS),
     * so the seed is whatever one node's config said, recorded once.
     */
    private void seedMembershipInBackground() {
        java.util.concurrent.atomic.AtomicReference<java.util.concurrent.ScheduledFuture<?>> task =
                new java.util.concurrent.atomic.AtomicReference<>();
        Runnable attempt = () -> {
            try {
                if (closed || seeding.get()) {
                    return;
                }
                if (membership().isSeeded()) {
                    java.util.concurrent.ScheduledFuture<?> f = task.get();
                    if (f != null) {
                        f.cancel(false); // done: the catalog holds a membership from now on
                    }
                    return;
                }
                if (division().getInfo().getLeaderId() == null) {
                    return; // no leader yet: an entry would only wait
                }
                seeding.set(true);
                List<Member> seed = config.nodes().stream().map(MetaService::member).toList();
                submit(new SeedMembers(seed)).whenComplete((reply, error) -> {
                    seeding.set(false);
                    if (error == null) {
                        LOG.info("membership seeded from the config of node {}: {} nodes", config.nodeId(), seed.size());
                    }
                });
            } catch (RuntimeException e) {
                seeding.set(false);
                LOG.debug("membership seed attempt failed: {}", e.toString());
            }
        };
        try {
            task.set(scheduler.scheduleWithFixedDelay(attempt, 0, SEED_RETRY_MS, TimeUnit.MILLISECONDS));
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    static Member member(NodeAddress n) {
        return new Member(n.id(), n.host(), n.port(), n.raftPort(), n.httpPort(), n.zone(), MemberState.ACTIVE);
    }

    /** The ids of the peers in the current Raft configuration, as this node knows it. */
    public List<String> raftPeers() {
        return division().getRaftConf().getCurrentPeers().stream().map(p -> p.getId().toString()).sorted().toList();
    }

    /**
     * Adds {@code node} to the cluster: the Raft configuration first (the leader brings the new
     * peer's log up to date before the change commits), then the catalog records it as an active
     * member, which makes it a placement target. The node must already run with {@code join: true}.
     * Completes with the log index of the membership entry. Safe to run again after a failure:
     * each step is skipped when it is already done.
     */
    public CompletableFuture<Long> addMember(NodeAddress node) {
        return CompletableFuture.supplyAsync(() -> {
            Membership current = requireSeeded();
            Member add = member(node);
            Optional<Member> existing = current.member(node.id());
            if (existing.isPresent() && !existing.get().equals(add)) {
                throw new CatalogException(Code.EXISTS, "node " + node.id() + " is already a member ("
                        + existing.get().endpoint() + ", " + existing.get().state() + "); choose another id");
            }
            if (!raftPeers().contains(node.id())) {
                if (!answers(node.host(), node.raftPort())) {
                    throw new CatalogException(Code.UNAVAILABLE, "node " + node.id() + " does not answer on its raft port "
                            + node.host() + ":" + node.raftPort() + "; start it first (cairn server --config FILE, "
                            + "with join: true in FILE) and run add again");
                }
                List<RaftPeer> peers = new java.util.ArrayList<>(division().getRaftConf().getCurrentPeers());
                peers.add(peer(node.id(), node.host(), node.raftPort()));
                setConfiguration(peers, "add node " + node.id());
            }
            return join(submit(new AddMember(add)).thenApply(Reply::index));
        }, admin);
    }

    /**
     * Marks {@code id} leaving: it stops being a placement target, so repair passes copy its
     * chunks to the remaining placement nodes. Refused when fewer than N active nodes would remain.
     */
    public CompletableFuture<Long> markLeaving(String id) {
        return CompletableFuture.supplyAsync(() -> {
            requireSeeded();
            return join(submit(new MarkLeaving(id, config.quorum().replicas())).thenApply(Reply::index));
        }, admin);
    }

    /**
     * Drops leaving member {@code id}: from the Raft configuration, then from the catalog. The
     * caller has made sure (with a census) that every chunk has N copies without it.
     */
    public CompletableFuture<Long> dropMember(String id) {
        return CompletableFuture.supplyAsync(() -> {
            Membership current = requireSeeded();
            Optional<Member> member = current.member(id);
            if (member.isPresent() && member.get().state() != MemberState.LEAVING) {
                throw new CatalogException(Code.INVALID, "node " + id + " is active; mark it leaving and re-replicate"
                        + " its chunks first (cairn admin nodes remove " + id + " does both)");
            }
            if (member.isEmpty() && !raftPeers().contains(id)) {
                throw new CatalogException(Code.NOT_FOUND, "node " + id + " is not a member; cairn admin nodes lists them");
            }
            if (raftPeers().contains(id)) {
                if (id.equals(config.nodeId())) {
                    throw new CatalogException(Code.INVALID, "node " + id + " cannot drop itself from the Raft group;"
                            + " send the request to another node");
                }
                List<RaftPeer> remaining = division().getRaftConf().getCurrentPeers().stream()
                        .filter(p -> !p.getId().toString().equals(id)).toList();
                long answering = remaining.stream().filter(p -> answers(p.getAddress())).count();
                if (remaining.isEmpty() || answering <= remaining.size() / 2) {
                    throw new CatalogException(Code.UNAVAILABLE, "dropping node " + id + " would leave a metadata group of "
                            + remaining.size() + " nodes of which only " + answering + " answer, no majority;"
                            + " bring the others back first");
                }
                setConfiguration(remaining, "drop node " + id);
            }
            if (member.isEmpty()) {
                return membership().index();
            }
            return join(submit(new RemoveMember(id)).thenApply(Reply::index));
        }, admin);
    }

    /**
     * The membership, seeded from this node's config first if the catalog holds none yet (a
     * cluster that started on an older build, or whose nodes all restarted before the seed).
     */
    private Membership requireSeeded() {
        Membership current = membership();
        if (current.isSeeded()) {
            return current;
        }
        if (config.join()) {
            throw new CatalogException(Code.UNAVAILABLE, "node " + config.nodeId() + " joined recently and its catalog"
                    + " holds no membership yet; send the request to another node");
        }
        try {
            join(submit(new SeedMembers(config.nodes().stream().map(MetaService::member).toList())));
        } catch (CatalogException e) {
            if (e.code() != Code.EXISTS) {
                throw e; // EXISTS: another node's seed was applied first, which is as good
            }
        }
        long deadline = System.nanoTime() + OPERATION_TIMEOUT.toNanos();
        while (!(current = membership()).isSeeded()) {
            if (System.nanoTime() - deadline > 0) {
                throw new CatalogException(Code.UNAVAILABLE, "node " + config.nodeId() + " has not applied the membership"
                        + " within " + OPERATION_TIMEOUT.toSeconds() + "s; check cairn admin health and retry");
            }
            try {
                Thread.sleep(AWAIT_LEADER_POLL_MS); // this replica applies the seed entry shortly after the leader
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CatalogException(Code.UNAVAILABLE, "interrupted while waiting for the membership", e);
            }
        }
        return current;
    }

    private void setConfiguration(List<RaftPeer> peers, String what) {
        RaftProperties p = clientProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, ADMIN_REQUEST_TIMEOUT);
        List<RaftPeer> known = new java.util.ArrayList<>(division().getRaftConf().getAllPeers());
        peers.stream().filter(n -> known.stream().noneMatch(k -> k.getId().equals(n.getId()))).forEach(known::add);
        try (RaftClient adminClient = RaftClient.newBuilder()
                .setProperties(p)
                .setRaftGroup(RaftGroup.valueOf(GROUP_ID, known))
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(ADMIN_MAX_ATTEMPTS, CLIENT_RETRY_SLEEP))
                .build()) {
            RaftClientReply reply = adminClient.admin().setConfiguration(peers);
            if (!reply.isSuccess()) {
                throw new CatalogException(Code.UNAVAILABLE, "the metadata group refused to " + what + ": "
                        + rootMessage(reply.getException()) + "; check that every node runs, then run the command again");
            }
            LOG.info("Raft configuration changed ({}): {}", what, peers);
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "the metadata group could not " + what + ": " + rootMessage(e)
                    + "; check that every node runs (a new node with join: true), then run the command again", e);
        }
    }

    private static RaftPeer peer(String id, String host, int raftPort) {
        return RaftPeer.newBuilder().setId(id).setAddress(host + ":" + raftPort).build();
    }

    private static boolean answers(String address) {
        int colon = address.lastIndexOf(':');
        return answers(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    }

    private static boolean answers(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), PROBE_TIMEOUT_MS);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            Throwable cause = unwrap(e);
            throw cause instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Lets this node's Raft clients reach every peer of the current configuration: a peer added
     * after start (not in the config file) may become the leader, and a read is sent to the
     * leader by id.
     */
    private void syncClientPeers() {
        addCurrentPeers(client);
        addCurrentPeers(readClient);
    }

    private void addCurrentPeers(RaftClient c) {
        try {
            c.getClientRpc().addRaftPeers(division().getRaftConf().getAllPeers());
        } catch (RuntimeException e) {
            LOG.debug("cannot update the Raft clients' peers: {}", e.toString());
        }
    }

    /** A write through the Raft log. */
    private CompletableFuture<Reply> submit(Request request) {
        long startNanos = System.nanoTime();
        Message message = message(request);
        CompletableFuture<RaftClientReply> sent;
        RaftClient writer = client;
        try {
            sent = writer.async().send(message);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.orTimeout(OPERATION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .handle((reply, error) -> {
                    if (error == null && reply.isSuccess()) {
                        return CompletableFuture.completedFuture(reply);
                    }
                    Throwable cause = error != null ? unwrap(error) : reply.getException();
                    if (cause == null) {
                        cause = new IOException("unsuccessful Raft reply without an exception");
                    }
                    renewIfClosed(writer, cause);
                    return this.<RaftClientReply>fail(request, cause, startNanos);
                })
                .thenCompose(f -> f)
                .thenApply(reply -> checkStatus(request, reply));
    }

    /**
     * A linearizable read, always sent to the leader this node knows.
     *
     * <p>Why not let Ratis route it: with read option LINEARIZABLE, a <em>follower</em> that gets a
     * read asks the leader for a read index over the server async protocol, which ratis-netty
     * 3.3.0 does not implement; the read then hangs until the RPC times out. A leader serves the
     * read itself (read index confirmed by a heartbeat round to a majority), so reads go to the
     * leader, and are retried at the new leader when it changes.
     */
    private CompletableFuture<Reply> read(Request request) {
        long startNanos = System.nanoTime();
        CompletableFuture<Reply> result = new CompletableFuture<>();
        attemptRead(request, message(request), startNanos, null, result);
        return result;
    }

    private void attemptRead(Request request, Message message, long startNanos, Throwable lastFailure,
                             CompletableFuture<Reply> result) {
        long remainingNanos = OPERATION_TIMEOUT.toNanos() - (System.nanoTime() - startNanos);
        if (remainingNanos <= 0) {
            Throwable cause = lastFailure != null ? lastFailure : new TimeoutException();
            this.<Reply>fail(request, cause, startNanos).whenComplete((r, e) -> result.completeExceptionally(unwrap(e)));
            return;
        }
        RaftPeerId leader;
        try {
            leader = division().getInfo().getLeaderId();
        } catch (CatalogException e) {
            result.completeExceptionally(e);
            return;
        }
        if (leader == null) {
            retryRead(request, message, startNanos, new IOException("no leader known to node " + config.nodeId()), result);
            return;
        }
        CompletableFuture<RaftClientReply> sent;
        RaftClient reader = readClient;
        try {
            sent = reader.async().sendReadOnly(message, leader);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.orTimeout(remainingNanos, TimeUnit.NANOSECONDS).whenComplete((reply, error) -> {
            if (error == null && reply.isSuccess()) {
                try {
                    result.complete(checkStatus(request, reply));
                } catch (CatalogException e) {
                    result.completeExceptionally(e);
                }
                return;
            }
            Throwable cause = error != null ? unwrap(error) : reply.getException();
            renewIfClosed(reader, cause);
            if (cause instanceof StateMachineException) {
                fail(request, cause, startNanos).whenComplete((r, e) -> result.completeExceptionally(unwrap(e)));
            } else {
                retryRead(request, message, startNanos, cause, result);
            }
        });
    }

    private void retryRead(Request request, Message message, long startNanos, Throwable cause,
                           CompletableFuture<Reply> result) {
        try {
            scheduler.schedule(() -> attemptRead(request, message, startNanos, cause, result),
                    READ_RETRY_SLEEP_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new CatalogException(Code.UNAVAILABLE, "metadata service is closed", e));
        }
    }

    private static Message message(Request request) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(CatalogMessages.encode(request)));
    }

    private static Reply checkStatus(Request request, RaftClientReply raftReply) {
        return checkStatus(request, raftReply.getMessage());
    }

    private static Reply checkStatus(Request request, Message answer) {
        Reply reply;
        try {
            reply = CatalogMessages.decodeReply(answer.getContent().asReadOnlyByteBuffer());
        } catch (MalformedMessageException e) {
            throw new CatalogException(Code.INVALID, request.type() + ": " + e.getMessage(), e);
        }
        switch (reply.status()) {
            case OK:
                return reply;
            case NOT_FOUND:
                throw new CatalogException(Code.NOT_FOUND, reply.message());
            case EXISTS:
                throw new CatalogException(Code.EXISTS, reply.message());
            case SESSION_EXPIRED:
                throw new CatalogException(Code.SESSION_EXPIRED, reply.message());
            case BUSY:
                throw new CatalogException(Code.BUSY, reply.message());
            default:
                throw new CatalogException(Code.INVALID, reply.message());
        }
    }

    private int raftPeerCount() {
        try {
            return division().getRaftConf().getCurrentPeers().size();
        } catch (RuntimeException e) {
            return config.nodes().size();
        }
    }

    /** Maps a Ratis failure to a CatalogException; for unavailability, says how many nodes answer. */
    private <T> CompletableFuture<T> fail(Request request, Throwable cause, long startNanos) {
        if (cause instanceof CatalogException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (cause instanceof StateMachineException) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID,
                    request.type() + " refused by the catalog: " + rootMessage(cause), cause));
        }
        // Everything else - retries exhausted, timeouts, no leader, closed client - means that no
        // leader with a quorum answered in time. A write's outcome is then unknown: it may still
        // commit if the quorum comes back.
        long seconds = Math.max(1, Math.round((System.nanoTime() - startNanos) / 1e9));
        CompletableFuture<Integer> probe;
        try {
            probe = CompletableFuture.supplyAsync(this::answeringNodes, scheduler);
        } catch (RejectedExecutionException e) {
            probe = CompletableFuture.completedFuture(-1); // closing: no probe
        }
        return probe
                .exceptionally(t -> -1)
                .thenApply(answering -> {
                    String who = answering < 0 ? "" : " (" + answering + " of " + raftPeerCount() + " nodes answer)";
                    throw new CatalogException(Code.UNAVAILABLE, "metadata quorum unavailable: no Raft leader reachable within "
                            + seconds + "s" + who + "; " + request.type() + " failed: " + rootMessage(cause), cause);
                });
    }

    /** How many nodes accept a connection on their raft port right now. */
    private int answeringNodes() {
        int answering = 0;
        for (RaftPeer peer : division().getRaftConf().getCurrentPeers()) {
            if (answers(peer.getAddress())) {
                answering++;
            }
        }
        return answering;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String rootMessage(Throwable t) {
        if (t instanceof TimeoutException) {
            return "timed out after " + OPERATION_TIMEOUT.toSeconds() + "s";
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        return root.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** This node's view of the group. */
    public MetaStatus status() {
        RaftServer.Division division = division();
        DivisionInfo info = division.getInfo();
        RaftPeerId leader = info.getLeaderId();
        return new MetaStatus(config.nodeId(), info.getCurrentRole().name(), info.getCurrentTerm(),
                leader == null ? null : leader.toString(), division.getRaftLog().getLastCommittedIndex(),
                info.getLastAppliedIndex());
    }

    /** Names of the gauges {@link #registerMetrics} adds. */
    static final List<String> GAUGES = List.of("cairn_raft_role", "cairn_raft_term", "cairn_raft_commit_index",
            "cairn_raft_applied_index", "cairn_raft_follower_lag");

    /**
     * Adds this node's Raft figures to {@code registry} as gauges, read through Ratis' own API
     * on every read of the gauge (no Ratis metrics registry involved):
     * {@code cairn_raft_role} (0 follower, 1 candidate, 2 leader, 3 listener, -1 unknown),
     * {@code cairn_raft_term}, {@code cairn_raft_commit_index}, {@code cairn_raft_applied_index}
     * and {@code cairn_raft_follower_lag} (on the leader, the largest number of log entries a
     * follower is missing; 0 elsewhere). A gauge reads -1 once this service is closed. Replaces
     * gauges of the same names; {@link #close()} removes them.
     */
    public void registerMetrics(MetricRegistry registry) {
        Map<String, Gauge<Long>> gauges = new LinkedHashMap<>();
        gauges.put("cairn_raft_role", () -> raftFigure(d -> switch (d.getInfo().getCurrentRole()) {
            case FOLLOWER -> 0L;
            case CANDIDATE -> 1L;
            case LEADER -> 2L;
            case LISTENER -> 3L;
            default -> -1L;
        }));
        gauges.put("cairn_raft_term", () -> raftFigure(d -> d.getInfo().getCurrentTerm()));
        gauges.put("cairn_raft_commit_index", () -> raftFigure(d -> d.getRaftLog().getLastCommittedIndex()));
        gauges.put("cairn_raft_applied_index", () -> raftFigure(d -> d.getInfo().getLastAppliedIndex()));
        gauges.put("cairn_raft_follower_lag", () -> raftFigure(MetaService::followerLag));
        for (Map.Entry<String, Gauge<Long>> g : gauges.entrySet()) {
            registry.remove(g.getKey());
            registry.register(g.getKey(), g.getValue());
        }
        metricRegistries.add(registry);
    }

    /** On the leader: how many entries the furthest-behind follower lacks; 0 on other roles. */
    private static long followerLag(RaftServer.Division d) {
        DivisionInfo info = d.getInfo();
        if (!info.isLeader()) {
            return 0;
        }
        long[] matched = info.getFollowerMatchIndices();
        long last = d.getRaftLog().getNextIndex() - 1;
        long lag = 0;
        if (matched != null) {
            for (long m : matched) {
                lag = Math.max(lag, last - m);
            }
        }
        return lag;
    }

    private long raftFigure(ToLongFunction<RaftServer.Division> figure) {
        if (closed) {
            return -1;
        }
        try {
            return figure.applyAsLong(server.getDivision(GROUP_ID));
        } catch (IOException | RuntimeException e) {
            return -1; // closing, or not (yet) a member: a gauge must not throw
        }
    }

    /** Waits until this node knows a leader (and, if it is the leader, until it is ready to serve). */
    public boolean awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            DivisionInfo info = division().getInfo();
            if (info.getLeaderId() != null && (!info.isLeader() || info.isLeaderReady())) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(AWAIT_LEADER_POLL_MS);
        }
    }

    /** The first index still in this node's Raft log (above it, earlier entries were purged). */
    long logStartIndex() {
        return division().getRaftLog().getStartIndex();
    }

    /** The catalog state machine of this node, for tests and diagnostics. */
    CatalogStateMachine stateMachine() {
        return (CatalogStateMachine) division().getStateMachine();
    }

    private RaftServer.Division division() {
        try {
            return server.getDivision(GROUP_ID);
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "this node is not (or no longer) a member of the metadata group: "
                    + e.getMessage(), e);
        }
    }

    /** Stops the client and the Raft server; closing the server closes the catalog database. */
    @Override
    public void close() {
        closed = true;
        for (MetricRegistry registry : metricRegistries) {
            GAUGES.forEach(registry::remove);
        }
        scheduler.shutdownNow();
        admin.shutdownNow();
        synchronized (this) {
            closeQuietly(client);
            closeQuietly(readClient);
        }
        closeQuietly(server);
    }

    private static void closeQuietly(RaftClient c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.warn("closing a metadata client: {}", e.toString());
        }
    }

    private static void closeQuietly(RaftServer server) {
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("closing the Raft server: {}", e.toString());
        }
    }
}
