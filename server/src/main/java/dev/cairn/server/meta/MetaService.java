package dev.cairn.server.meta;

import com.codahale.metrics.MetricRegistry;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.engine.Clock;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogException.Code;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogImageMessages.CommitImage;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import dev.cairn.server.meta.CatalogImageMessages.GetImage;
import dev.cairn.server.meta.CatalogImageMessages.ListImages;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.SizeInBytes;

/**
 * This node's member of the metadata Raft group, and the image catalog API on top of it: the
 * one type the rest of the server calls.
 *
 * <p>Writes go through the Raft log and complete only after a majority has fsync'd the entry
 * and it has been applied. Reads are linearizable (Ratis read index). Every operation fails,
 * within {@link CatalogCalls#OPERATION_TIMEOUT}, with a {@link CatalogException}.
 *
 * <p>The work is done by {@link RaftNode} (the Ratis server: bootstrap, properties, clients),
 * {@link CatalogCalls} (sending requests and mapping failures), {@link MembershipChanges} and
 * {@link CatalogSessions} (upload sessions and GC epochs); this class holds the catalog calls,
 * this node's Raft status and gauges, and the lifecycle.
 */
public final class MetaService implements AutoCloseable {

    private final RaftNode raft;
    private final CatalogCalls requests;
    private final MembershipChanges membership;
    private final CatalogTokens tokens;
    private final CatalogQuotas quotas;
    private final CatalogSessions sessions;
    /** Times leader waits; the same clock times requests and stamps entries on the leader. */
    private final Clock clock;
    private final RaftGauges gauges;
    /** Retry delays, reachability probes and seed attempts; never blocks a Ratis thread. */
    private final ScheduledExecutorService scheduler;

    private MetaService(NodeConfig config, RaftNode raft, Clock clock) {
        this.raft = raft;
        this.clock = clock;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cairn-meta-" + config.nodeId());
            t.setDaemon(true);
            return t;
        });
        this.requests = new CatalogCalls(config, raft, scheduler, clock);
        this.membership = new MembershipChanges(config, raft, requests, scheduler, clock);
        this.tokens = new CatalogTokens(requests, raft::stateMachine);
        this.quotas = new CatalogQuotas(requests, raft::stateMachine);
        this.sessions = new CatalogSessions(requests, raft::stateMachine);
        this.gauges = new RaftGauges(config.nodeId(), raft);
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
        // Catalog entries are a few hundred bytes; small segments keep replay and preallocation cheap.
        private static final SizeInBytes LOG_SEGMENT_SIZE_MAX = SizeInBytes.valueOf("8MB");
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

        static final Tuning DEFAULT =
                new Tuning(SNAPSHOT_EVERY_ENTRIES, LOG_SEGMENT_SIZE_MAX, PURGE_GAP_ENTRIES, CALL_WINDOW_ENTRIES);

        Tuning(long snapshotEveryEntries, SizeInBytes segmentSizeMax, int purgeGapEntries, long callWindowEntries) {
            this(snapshotEveryEntries, segmentSizeMax, purgeGapEntries, callWindowEntries, true);
        }
    }

    static MetaService start(NodeConfig config, Tuning tuning) throws IOException {
        return start(config, tuning, Clock.SYSTEM);
    }

    /**
     * As {@link #start(NodeConfig)}; {@code clock} is the clock a leader stamps into session and
     * GC entries, and the one that times this node's operations.
     */
    static MetaService start(NodeConfig config, Tuning tuning, Clock clock) throws IOException {
        RaftNode raft = RaftNode.start(config, tuning, clock);
        MetaService service;
        try {
            service = new MetaService(config, raft, clock);
        } catch (RuntimeException e) {
            raft.close();
            throw e;
        }
        service.stateMachine().onConfigurationChanged(service.requests::syncClientPeers);
        service.requests.syncClientPeers();
        // Only a new cluster seeds at start. On a cluster that ran an older build, a seed entry
        // (format version 4) in the log would stop the replicas not yet upgraded; there the first
        // membership command seeds instead (requireSeeded), after the operator upgraded every node.
        if (!config.join() && !raft.recovered() && tuning.seedAtStart()) {
            service.membership.seedInBackground();
        }
        return service;
    }

    /** A test seam: closes both Raft clients as Ratis does when a request's retries run out. */
    void closeClientsForTest() {
        requests.closeClientsForTest();
    }

    /**
     * Commits a new image; completes with the log index of the commit. Completion means a
     * majority has fsync'd the entry to its Raft log and the leader has applied it.
     */
    public CompletableFuture<Long> commitImage(ImageName name, ImageRoot root) {
        return requests.submit(new CommitImage(name, root)).thenApply(Reply::index);
    }

    /**
     * Commits a new image on behalf of call {@code callId} of Cairn client {@code clientId}, exactly
     * once: a retry of the same call (same ids, e.g. after a lost reply or through another server)
     * completes with the first result (the same log index, or the same refusal) and never commits
     * a second time. A client numbers its calls and never reuses a pair for a different request.
     * Retries are recognised until the log has moved {@code 200 000} entries past the first apply.
     */
    public CompletableFuture<Long> commitImage(ImageName name, ImageRoot root, UUID clientId, long callId) {
        return requests.submit(new Call(clientId, callId, new CommitImage(name, root))).thenApply(Reply::index);
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
        return commitImage(name, root, sessionId, clientId, callId, closesSession, null);
    }

    /**
     * As {@link #commitImage(ImageName, ImageRoot, UUID, UUID, long, boolean)}, recording
     * {@code parent} (null for none) as the image's lineage: refused with NOT_FOUND when no image
     * of that name is stored (a WITH_PARENT entry, format version 9).
     */
    public CompletableFuture<Long> commitImage(ImageName name, ImageRoot root, UUID sessionId, UUID clientId, long callId,
                                               boolean closesSession, ImageName parent) {
        return requests.submit(new Call(clientId, callId,
                new CommitInSession(name, root, sessionId, 0, closesSession, parent))).thenApply(Reply::index);
    }

    /**
     * The current GC epoch on this replica (0 before the first). Not linearizable: a coordinator
     * uses it to choose the next epoch, and BEGIN_GC_EPOCH refuses a stale choice.
     */
    public long gcEpoch() {
        return localGcState().epoch();
    }

    /** The GC epoch a catalog replica has applied, and whether GC_MAY_SWEEP of that epoch is applied too. */
    public record LocalGcState(long epoch, boolean maySweep) {}

    /**
     * The GC state this node's own catalog replica has applied. Not linearizable: a node checks
     * the GC requests it gets against it (docs/gc.md, "Who decides"), waiting for it to catch up.
     */
    public LocalGcState localGcState() {
        return sessions.localGcState();
    }

    /** Deletes an image; completes with the log index of the delete. */
    public CompletableFuture<Long> deleteImage(ImageName name) {
        return requests.submit(new DeleteImage(name)).thenApply(Reply::index);
    }

    /** Deletes an image exactly once for call {@code callId} of client {@code clientId}; see {@link #commitImage(ImageName, ImageRoot, UUID, long)}. */
    public CompletableFuture<Long> deleteImage(ImageName name, UUID clientId, long callId) {
        return requests.submit(new Call(clientId, callId, new DeleteImage(name))).thenApply(Reply::index);
    }

    /**
     * Opens upload session {@code sessionId} for {@code clientId} with a lease of {@code lease}
     * (at most 24 h), counted in log time: the leader stamps its clock into the entry. Opening
     * an open session of the same client again renews its lease. Completes with the log index
     * at which the session was first opened; GC epochs that begin after it do not wait for it.
     */
    public CompletableFuture<Long> openSession(UUID sessionId, UUID clientId, Duration lease) {
        return sessions.open(sessionId, clientId, lease);
    }

    /**
     * Extends the lease of open upload session {@code sessionId} to {@code lease} (at most 24 h)
     * past the entry's log time; a lease never shrinks. Fails with SESSION_EXPIRED when the
     * session is not open or its lease has already run out in log time: it is never re-created,
     * since a GC epoch may have stopped waiting for it. Completes with the renewal's log index.
     */
    public CompletableFuture<Long> renewSession(UUID sessionId, Duration lease) {
        return sessions.renew(sessionId, lease);
    }

    /** Closes an upload session (its commit is done or abandoned); fails with NOT_FOUND if it is not open. */
    public CompletableFuture<Long> closeSession(UUID sessionId) {
        return sessions.close(sessionId);
    }

    /** Begins GC epoch {@code epoch}, which must be the current epoch + 1 (else INVALID). */
    public CompletableFuture<Long> beginGcEpoch(long epoch) {
        return sessions.beginGcEpoch(epoch);
    }

    /**
     * Records that epoch {@code epoch} may be swept. Fails with BUSY, saying how long to wait,
     * while an upload session opened before the epoch began is still open and leased.
     */
    public CompletableFuture<Long> gcMaySweep(long epoch) {
        return sessions.gcMaySweep(epoch);
    }

    /** Linearizable read of one image. */
    public CompletableFuture<Optional<ImageInfo>> getImage(ImageName name) {
        return requests.read(new GetImage(name)).thenApply(r -> r.images().stream().findFirst());
    }

    /** Linearizable list of the images whose name starts with {@code prefix}, sorted, at most {@code limit}. */
    public CompletableFuture<List<ImageInfo>> listImages(String prefix, int limit) {
        String problem = CatalogImageMessages.listProblem(prefix, limit);
        if (problem != null) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, problem));
        }
        return requests.read(new ListImages(prefix, limit)).thenApply(Reply::images);
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
        return requests.readLocally(new GetImage(name), minIndex);
    }

    /** As {@link #listImages}, as a session read (see {@link #getImageAtLeast}). */
    public CompletableFuture<SessionRead> listImagesAtLeast(String prefix, int limit, long minIndex) {
        String problem = CatalogImageMessages.listProblem(prefix, limit);
        if (problem != null) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, problem));
        }
        return requests.readLocally(new ListImages(prefix, limit), minIndex);
    }


    // ---- membership

    /**
     * The membership this node's catalog replica has applied (not linearizable: it may lag the
     * leader by the entries in flight). Empty, index 0, until the first membership is seeded.
     */
    public Membership membership() {
        return membership.membership();
    }

    /** The ids of the peers in the current Raft configuration, as this node knows it. */
    public List<String> raftPeers() {
        return membership.raftPeers();
    }

    /**
     * Adds {@code node} to the cluster: the Raft configuration first (the leader brings the new
     * peer's log up to date before the change commits), then the catalog records it as an active
     * member, which makes it a placement target. The node must already run with {@code join: true}.
     * Completes with the log index of the membership entry. Safe to run again after a failure:
     * each step is skipped when it is already done.
     */
    public CompletableFuture<Long> addMember(NodeAddress node) {
        return membership.addMember(node);
    }

    /**
     * Marks {@code id} leaving: it stops being a placement target, so repair passes copy its
     * chunks to the remaining placement nodes. Refused when fewer than N active nodes would remain.
     */
    public CompletableFuture<Long> markLeaving(String id) {
        return membership.markLeaving(id);
    }

    /**
     * Drops leaving member {@code id}: from the Raft configuration, then from the catalog. The
     * caller has made sure (with a census) that every chunk has N copies without it.
     */
    public CompletableFuture<Long> dropMember(String id) {
        return membership.dropMember(id);
    }

    // ---- access tokens

    /** The access tokens: created and revoked through the log, read from this node's replica. */
    public CatalogTokens tokens() {
        return tokens;
    }

    /** The byte quotas: set and removed through the log, checked at every commit, read from this node's replica. */
    public CatalogQuotas quotas() {
        return quotas;
    }

    // ---- this node's Raft status

    /** This node's view of the group. */
    public MetaStatus status() {
        return gauges.status();
    }

    /**
     * Adds this node's Raft figures to {@code registry} as gauges; see {@link RaftGauges#register}.
     * {@link #close()} removes them.
     */
    public void registerMetrics(MetricRegistry registry) {
        gauges.register(registry);
    }

    /** Waits until this node knows a leader (and, if it is the leader, until it is ready to serve). */
    public boolean awaitLeader(Duration timeout) throws InterruptedException {
        return raft.awaitLeader(timeout, clock);
    }

    /** The first index still in this node's Raft log (above it, earlier entries were purged). */
    long logStartIndex() {
        return division().getRaftLog().getStartIndex();
    }

    /** The catalog state machine of this node, for tests and diagnostics. */
    CatalogStateMachine stateMachine() {
        return raft.stateMachine();
    }

    private RaftServer.Division division() {
        return raft.division();
    }

    /** Stops the clients and the Raft server; closing the server closes the catalog database. */
    @Override
    public void close() {
        membership.close();
        gauges.close();
        scheduler.shutdownNow();
        requests.close();
        raft.close();
    }
}
