package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogMessages.BeginGcEpoch;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.CloseSession;
import dev.cairn.server.meta.CatalogMessages.CommitInSession;
import dev.cairn.server.meta.CatalogMessages.GcMaySweep;
import dev.cairn.server.meta.CatalogMessages.OpenSession;
import dev.cairn.server.meta.CatalogMessages.RenewSession;
import dev.cairn.server.meta.CatalogMessages.Stamped;
import dev.cairn.server.meta.CatalogMessages.CommitImage;
import dev.cairn.server.meta.CatalogMessages.DeleteImage;
import dev.cairn.server.meta.CatalogMessages.GetImage;
import dev.cairn.server.meta.CatalogMessages.ListImages;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogMessages.AddMember;
import dev.cairn.server.meta.CatalogMessages.MarkLeaving;
import dev.cairn.server.meta.CatalogMessages.RemoveMember;
import dev.cairn.server.meta.CatalogMessages.SeedMembers;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import org.apache.ratis.proto.RaftProtos;
import dev.cairn.server.meta.CatalogStore.Applied;
import dev.cairn.server.meta.CatalogStore.GcPhase;
import dev.cairn.server.meta.CatalogStore.GcState;
import dev.cairn.server.meta.CatalogStore.Session;
import dev.cairn.server.meta.CatalogStore.RecordedCall;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft state machine of the image catalog: applies committed {@link CatalogMessages} to a
 * {@link CatalogStore} and answers read-only queries from it.
 *
 * <p>Apply is deterministic: its result depends only on the catalog and the entry (the entry's
 * own log index becomes the image's commit index; no clock, no randomness). A refused write
 * (EXISTS, NOT_FOUND) is a result encoded in the reply, not an exception. An entry this build
 * cannot decode stops the state machine: skipping it would make this replica diverge.
 *
 * <p>Raft snapshots are RocksDB checkpoints ({@link CatalogSnapshots}). At start Ratis replays
 * the log after the latest snapshot; entries at or below the persisted last applied index are
 * already in RocksDB and are skipped. When the snapshot is ahead of the catalog (a snapshot
 * installed from the leader, or RocksDB writes lost in a crash after the log was purged), the
 * catalog is replaced by the snapshot first.
 */
final class CatalogStateMachine extends BaseStateMachine {

    /** Session reads waiting for this replica to apply an index, by that index. */
    private final java.util.TreeMap<Long, java.util.List<CompletableFuture<Void>>> appliedWaiters = new java.util.TreeMap<>();

    private static final Logger LOG = LoggerFactory.getLogger(CatalogStateMachine.class);

    /**
     * How many recorded calls one apply may forget. Each call records one, so a small number
     * drains any backlog while keeping the extra work per apply bounded.
     */
    private static final int MAX_CALLS_EXPIRED_PER_APPLY = 16;

    private final Path catalogDir;
    /** A call's reply is kept until the log is this many entries past it; see {@link MetaService.Tuning}. */
    private final long callWindowEntries;
    /** Read only in {@link #startTransaction}, on the leader; apply reads time from the entry. */
    private final LongSupplier leaderClockMillis;
    /** Queries take the read side, close takes the write side: RocksDB must not be used after close. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final CatalogSnapshots snapshots = new CatalogSnapshots();
    private CatalogStore store;
    private boolean closed;
    private volatile long snapshotsLoaded;
    private volatile long callsRepeated;
    // Written only by Ratis' apply thread; read by tests and status.
    private volatile long entriesApplied;
    private volatile long entriesSkipped;
    private volatile Runnable configurationListener;

    CatalogStateMachine(Path catalogDir, long callWindowEntries, LongSupplier leaderClockMillis) {
        this.catalogDir = catalogDir;
        this.callWindowEntries = callWindowEntries;
        this.leaderClockMillis = leaderClockMillis;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        snapshots.init(raftStorage);
        CatalogSnapshots.cleanLeftovers(catalogDir);
        lifecycle.writeLock().lock();
        try {
            store = CatalogStore.open(catalogDir);
            loadSnapshotIfNewer();
        } finally {
            lifecycle.writeLock().unlock();
        }
        Applied applied = store.lastApplied();
        setLastAppliedTermIndex(TermIndex.valueOf(applied.term(), applied.index()));
        getLifeCycle().transition(LifeCycle.State.STARTING);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
        LOG.info("catalog opened; last applied term {} index {}; latest snapshot {}",
                applied.term(), applied.index(), snapshots.getLatestSnapshot());
    }

    /** Ratis pauses the state machine before it installs a snapshot, and checks that it did. */
    @Override
    public void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /**
     * Called by Ratis (state machine paused) after it installed a snapshot received from the
     * leader into the state machine directory: the catalog becomes that snapshot.
     */
    @Override
    public void reinitialize() throws IOException {
        snapshots.reload();
        lifecycle.writeLock().lock();
        try {
            checkOpen();
            loadSnapshotIfNewer();
        } finally {
            lifecycle.writeLock().unlock();
        }
        Applied applied = store.lastApplied();
        setLastAppliedTermIndex(TermIndex.valueOf(applied.term(), applied.index()));
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
        LOG.info("catalog reinitialized; last applied term {} index {}", applied.term(), applied.index());
    }

    /**
     * Replaces the catalog with the latest snapshot when the snapshot is ahead of it: after an
     * installed snapshot, or after a crash lost RocksDB writes that the (purged) log can no
     * longer replay. Caller holds the write lock.
     */
    private void loadSnapshotIfNewer() throws IOException {
        SnapshotInfo snapshot = snapshots.getLatestSnapshot();
        Applied applied = store.lastApplied();
        if (snapshot == null || snapshot.getIndex() <= applied.index()) {
            return;
        }
        long startNanos = System.nanoTime();
        store.close();
        store = null;
        CatalogSnapshots.installInto(snapshots.latestDir(), catalogDir);
        store = CatalogStore.open(catalogDir);
        Applied loaded = store.lastApplied();
        if (loaded.index() != snapshot.getIndex() || loaded.term() != snapshot.getTerm()) {
            throw new IOException("snapshot " + snapshot.getTermIndex() + " holds a catalog at term " + loaded.term()
                    + " index " + loaded.index() + "; refusing to use it");
        }
        snapshotsLoaded++;
        LOG.info("catalog loaded from snapshot {} (was at index {}) in {} ms", snapshot.getTermIndex(),
                applied.index(), (System.nanoTime() - startNanos) / 1_000_000);
    }

    /**
     * Checkpoints the catalog as a Raft snapshot at the last applied position. Ratis calls this
     * on its apply thread, so the checkpoint holds exactly the entries up to that position.
     */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex at = getLastAppliedTermIndex();
        if (at == null || at.getIndex() < 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        long startNanos = System.nanoTime();
        lifecycle.readLock().lock();
        try {
            checkOpen();
            Applied persisted = store.lastApplied();
            if (persisted.index() != at.getIndex()) {
                throw new IllegalStateException("catalog is at index " + persisted.index()
                        + " but the state machine reports " + at + "; not taking a snapshot");
            }
            snapshots.take(store, at);
        } finally {
            lifecycle.readLock().unlock();
        }
        LOG.info("took catalog snapshot {} in {} ms", at, (System.nanoTime() - startNanos) / 1_000_000);
        return at.getIndex();
    }

    @Override
    public CatalogSnapshots getStateMachineStorage() {
        return snapshots;
    }

    @Override
    public SnapshotInfo getLatestSnapshot() {
        return snapshots.getLatestSnapshot();
    }

    /** The catalog's upload session, if open; for tests and the GC coordinator. */
    Optional<Session> session(UUID sessionId) throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return store.session(sessionId);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** The current GC epoch and phase on this replica. */
    GcState gcState() throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return store.gcState();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Calls applied again (a client retry) and answered with their recorded reply. */
    long callsRepeated() {
        return callsRepeated;
    }

    /** Times this process replaced its catalog by a snapshot (at start or after an install). */
    long snapshotsLoaded() {
        return snapshotsLoaded;
    }

    /**
     * On the leader, before anything is logged: refuses a write this build cannot apply, and
     * stamps the leader's clock into entries whose effect depends on time (session leases, GC).
     */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        TransactionContext trx = super.startTransaction(request);
        try {
            Request decoded = CatalogMessages.decodeRequest(request.getMessage().getContent().asReadOnlyByteBuffer());
            if (decoded.type().readOnly) {
                trx.setException(new MalformedMessageException(decoded.type() + " is a query, not a write"));
                return trx;
            }
            Request stamped = stamp(decoded, leaderClockMillis.getAsLong());
            if (stamped != decoded) {
                return TransactionContext.newBuilder()
                        .setStateMachine(this)
                        .setClientRequest(request)
                        .setLogData(UnsafeByteOperations.unsafeWrap(CatalogMessages.encode(stamped)))
                        .build();
            }
        } catch (MalformedMessageException e) {
            trx.setException(e);
        }
        return trx;
    }

    private static Request stamp(Request request, long millis) {
        if (request instanceof Stamped s) {
            return s.stamped(millis);
        }
        if (request instanceof Call c && c.write() instanceof Stamped s) {
            return new Call(c.clientId(), c.callId(), s.stamped(millis));
        }
        return request;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long index = entry.getIndex();
        if (index <= getLastAppliedTermIndex().getIndex()) {
            // Replay of an entry whose effect RocksDB already holds (same WriteBatch as its marker).
            entriesSkipped++;
            return CompletableFuture.completedFuture(message(Reply.ok(index)));
        }
        Request request;
        try {
            request = CatalogMessages.decodeRequest(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
        } catch (MalformedMessageException e) {
            throw new IllegalStateException("cannot apply Raft log entry " + index + ": " + e.getMessage()
                    + "; this replica stops applying rather than diverge", e);
        }
        Applied applied = new Applied(entry.getTerm(), index);
        Reply reply;
        lifecycle.readLock().lock();
        try {
            checkOpen();
            reply = apply(request, applied);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot apply Raft log entry " + index + " to the catalog", e);
        } finally {
            lifecycle.readLock().unlock();
        }
        entriesApplied++;
        updateLastAppliedTermIndex(applied.term(), applied.index());
        return CompletableFuture.completedFuture(message(reply));
    }

    private Reply apply(Request request, Applied applied) throws IOException {
        try (CatalogStore.Batch batch = store.batch()) {
            Reply reply = apply(request, applied, batch);
            store.write(batch, applied);
            return reply;
        } catch (RocksDBException e) {
            throw new IOException("cannot apply log entry " + applied.index() + ": " + e.getMessage(), e);
        }
    }

    private Reply apply(Request request, Applied applied, CatalogStore.Batch batch) throws IOException, RocksDBException {
        if (request instanceof Call c) {
            byte[] key = c.key();
            Optional<RecordedCall> recorded = store.call(key);
            // Forget calls older than the window; at most a few per apply so that apply stays short.
            store.expireCalls(batch, applied.index() - callWindowEntries, MAX_CALLS_EXPIRED_PER_APPLY);
            if (recorded.isPresent()) {
                callsRepeated++;
                return CatalogMessages.decodeReply(ByteBuffer.wrap(recorded.get().reply()));
            }
            Reply reply = apply(c.write(), applied, batch);
            batch.putCall(key, applied.index(), CatalogMessages.encode(reply));
            return reply;
        }
        if (request instanceof CommitImage c) {
            // Without a session, a commit is safe only while no GC epoch has ever begun: before the
            // first epoch nothing was swept. After it, its chunks may have been uploaded before a
            // sweep that did not see them.
            GcState gc = store.gcState();
            if (gc.epoch() >= 1) {
                return Reply.refused(Status.INVALID, "a commit without an upload session is refused once garbage"
                        + " collection has run (epoch " + gc.epoch() + "); upgrade the client, it opens a session per put");
            }
            return commit(c.name(), c.root(), applied, batch);
        }
        if (request instanceof DeleteImage d) {
            if (store.get(d.name()).isEmpty()) {
                return Reply.refused(Status.NOT_FOUND, "image " + d.name() + " does not exist");
            }
            batch.deleteImage(d.name());
            return Reply.ok(applied.index());
        }
        if (request instanceof Stamped st) {
            // Log time: leader-stamped, never decreasing (a new leader's clock may be behind).
            long now = Math.max(st.leaderMillis(), store.logTimeMillis());
            batch.putLogTime(now);
            return applyStamped(st, now, applied, batch);
        }
        if (request instanceof SeedMembers seed) {
            if (!store.members().isEmpty()) {
                return Reply.refused(Status.EXISTS, "the membership is already recorded (at index "
                        + store.membershipIndex() + "); cairn admin nodes changes it");
            }
            for (Member m : seed.members()) {
                batch.putMember(m, applied.index());
            }
            return Reply.ok(applied.index());
        }
        if (request instanceof AddMember a) {
            return addMember(a.member(), applied, batch);
        }
        if (request instanceof MarkLeaving m) {
            return markLeaving(m, applied, batch);
        }
        if (request instanceof RemoveMember r) {
            Optional<Member> member = member(r.id());
            if (member.isEmpty()) {
                return Reply.refused(Status.NOT_FOUND, "node " + r.id() + " is not a member");
            }
            if (member.get().state() != MemberState.LEAVING) {
                return Reply.refused(Status.INVALID, "node " + r.id() + " is " + member.get().state()
                        + "; it must be marked leaving and its chunks re-replicated first (cairn admin nodes remove)");
            }
            batch.deleteMember(r.id(), applied.index());
            return Reply.ok(applied.index());
        }
        if (request instanceof CloseSession c) {
            if (store.session(c.sessionId()).isEmpty()) {
                return Reply.refused(Status.NOT_FOUND, "upload session " + c.sessionId() + " is not open");
            }
            batch.deleteSession(c.sessionId());
            return Reply.ok(applied.index());
        }
        // A query type in the log: startTransaction refuses it, but a log is applied as written.
        return Reply.refused(Status.INVALID, request.type() + " is a query, not a write");
    }

    private Optional<Member> member(String id) {
        return store.members().stream().filter(m -> m.id().equals(id)).findFirst();
    }

    private Reply addMember(Member add, Applied applied, CatalogStore.Batch batch) throws IOException, RocksDBException {
        List<Member> members = store.members();
        if (members.isEmpty()) {
            return Reply.refused(Status.INVALID, "the membership is not recorded yet (the cluster is still starting); retry");
        }
        for (Member m : members) {
            if (m.id().equals(add.id())) {
                Member asActive = new Member(m.id(), m.host(), m.port(), m.raftPort(), m.httpPort(), m.zone(), MemberState.ACTIVE);
                if (asActive.equals(add) && m.state() == MemberState.ACTIVE) {
                    return Reply.ok(store.membershipIndex()); // a retry of the same add
                }
                return Reply.refused(Status.EXISTS, "node " + add.id() + " is already a member (" + m.endpoint() + ", "
                        + m.state() + "); choose another id, or remove it first");
            }
            for (int port : new int[] {add.port(), add.raftPort(), add.httpPort()}) {
                if (m.host().equals(add.host()) && (port == m.port() || port == m.raftPort() || port == m.httpPort())) {
                    return Reply.refused(Status.INVALID, add.host() + ":" + port + " is already used by node " + m.id());
                }
            }
        }
        batch.putMember(add, applied.index());
        return Reply.ok(applied.index());
    }

    private Reply markLeaving(MarkLeaving request, Applied applied, CatalogStore.Batch batch) throws IOException, RocksDBException {
        List<Member> members = store.members();
        Optional<Member> leaving = members.stream().filter(m -> m.id().equals(request.id())).findFirst();
        if (leaving.isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, "node " + request.id() + " is not a member; cairn admin nodes lists them");
        }
        if (leaving.get().state() == MemberState.LEAVING) {
            return Reply.ok(store.membershipIndex()); // already leaving: a retry, or a removal resumed
        }
        long remaining = members.stream().filter(m -> m.state() == MemberState.ACTIVE && !m.id().equals(request.id())).count();
        if (remaining < request.minActive()) {
            return Reply.refused(Status.INVALID, "removing node " + request.id() + " would leave " + remaining
                    + " active nodes, fewer than the " + request.minActive() + " that N=" + request.minActive()
                    + " replicas need; add a node first (cairn admin nodes replace " + request.id() + " --id NEW ...)");
        }
        Member m = leaving.get();
        batch.putMember(new Member(m.id(), m.host(), m.port(), m.raftPort(), m.httpPort(), m.zone(), MemberState.LEAVING),
                applied.index());
        return Reply.ok(applied.index());
    }

    /** The membership this replica has applied: every member and the index of the last change. */
    Membership membership() throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return new Membership(store.membershipIndex(), store.members());
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Told when Ratis applies a new Raft configuration (peers added or removed). */
    void onConfigurationChanged(Runnable listener) {
        this.configurationListener = listener;
    }

    @Override
    public void notifyConfigurationChanged(long term, long index, RaftProtos.RaftConfigurationProto newConf) {
        Runnable listener = configurationListener;
        if (listener != null) {
            listener.run();
        }
    }

    private Reply commit(ImageName name, ImageRoot root, Applied applied, CatalogStore.Batch batch)
            throws IOException, RocksDBException {
        Optional<ImageInfo> existing = store.get(name);
        if (existing.isPresent()) {
            return Reply.refused(Status.EXISTS, "image " + name + " already exists (committed at index "
                    + existing.get().commitIndex() + "); images are immutable, choose a new name");
        }
        batch.putImage(name, root, applied.index());
        return Reply.ok(applied.index());
    }

    private Reply applyStamped(Stamped request, long now, Applied applied, CatalogStore.Batch batch)
            throws IOException, RocksDBException {
        if (request instanceof CommitInSession c) {
            // Durability contract 4: a session that GC_MAY_SWEEP stopped waiting for (expired) or
            // that was closed may hold chunks the epoch did not mark; its commit must not happen.
            Optional<Session> session = store.session(c.sessionId());
            if (session.isEmpty() || session.get().leaseExpiryMillis() <= now) {
                return Reply.refused(Status.SESSION_EXPIRED, "upload session " + c.sessionId() + " is "
                        + (session.isEmpty() ? "not open" : "expired (" + (now - session.get().leaseExpiryMillis())
                        + " ms of log time ago)") + "; image " + c.name() + " was not committed, put it again");
            }
            Reply reply = commit(c.name(), c.root(), applied, batch);
            if (c.closesSession() && reply.status() == Status.OK) {
                batch.deleteSession(c.sessionId());
            }
            return reply;
        }
        if (request instanceof OpenSession o) {
            Optional<Session> existing = store.session(o.sessionId());
            if (existing.isPresent()) {
                Session s = existing.get();
                if (!s.clientId().equals(o.clientId())) {
                    return Reply.refused(Status.EXISTS, "upload session " + o.sessionId() + " belongs to another client");
                }
                // An open applied again after the lease ended (a retry of one whose answer was lost,
                // applied late) must not revive the session, for the reason a renewal must not.
                if (s.leaseExpiryMillis() <= now) {
                    return Reply.refused(Status.SESSION_EXPIRED, "upload session " + o.sessionId() + " is expired ("
                            + (now - s.leaseExpiryMillis()) + " ms of log time ago) and cannot be opened again:"
                            + " GC may have swept what it uploaded; put the image again");
                }
                // Reopening renews the lease; the session keeps its first index.
                batch.putSession(new Session(s.sessionId(), s.clientId(), s.openedAtIndex(),
                        Math.max(s.leaseExpiryMillis(), now + o.leaseMillis())));
                return Reply.ok(s.openedAtIndex());
            }
            batch.putSession(new Session(o.sessionId(), o.clientId(), applied.index(), now + o.leaseMillis()));
            return Reply.ok(applied.index());
        }
        if (request instanceof RenewSession r) {
            // Only a session that is open and leased at this entry's log time is extended. Never
            // re-create or revive one: a GC_MAY_SWEEP that stopped waiting for it (it had expired)
            // may have swept chunks it uploaded, and an epoch that began after it was dropped
            // would not wait for it again.
            Optional<Session> session = store.session(r.sessionId());
            if (session.isEmpty() || session.get().leaseExpiryMillis() <= now) {
                return Reply.refused(Status.SESSION_EXPIRED, "upload session " + r.sessionId() + " is "
                        + (session.isEmpty() ? "not open" : "expired (" + (now - session.get().leaseExpiryMillis())
                        + " ms of log time ago)") + " and cannot be renewed: GC may have swept what it uploaded");
            }
            Session s = session.get();
            // Never shortens a lease: a renewal with a shorter lease, or one applied late, keeps the longer expiry.
            batch.putSession(new Session(s.sessionId(), s.clientId(), s.openedAtIndex(),
                    Math.max(s.leaseExpiryMillis(), now + r.leaseMillis())));
            return Reply.ok(applied.index());
        }
        GcState gc = store.gcState();
        if (request instanceof BeginGcEpoch b) {
            if (b.epoch() != gc.epoch() + 1) {
                return Reply.refused(Status.INVALID, "GC epoch " + b.epoch() + " is not the next epoch; the current one is "
                        + gc.epoch() + " (" + gc.phase() + ")");
            }
            batch.putGcState(new GcState(b.epoch(), GcPhase.MARKING, applied.index()));
            return Reply.ok(applied.index());
        }
        GcMaySweep m = (GcMaySweep) request;
        if (gc.epoch() != m.epoch() || gc.phase() == GcPhase.NONE) {
            return Reply.refused(Status.INVALID, "GC epoch " + m.epoch() + " is not the current epoch (" + gc.epoch() + ")");
        }
        if (gc.phase() == GcPhase.SWEEPING) {
            return Reply.ok(applied.index()); // already allowed
        }
        // Sessions opened before the epoch began may have written chunks the mark did not see;
        // sweeping must wait until each has closed or its lease has ended. Expired ones go now.
        long blocking = 0;
        long firstExpiry = Long.MAX_VALUE;
        for (Session s : store.sessions()) {
            if (s.leaseExpiryMillis() <= now) {
                batch.deleteSession(s.sessionId());
            } else if (s.openedAtIndex() < gc.begunAtIndex()) {
                blocking++;
                firstExpiry = Math.min(firstExpiry, s.leaseExpiryMillis());
            }
        }
        if (blocking > 0) {
            return Reply.refused(Status.BUSY, blocking + " upload session(s) opened before GC epoch " + m.epoch()
                    + " began are still leased; the first lease ends in " + (firstExpiry - now)
                    + " ms of log time; retry after that or when they close");
        }
        batch.putGcState(new GcState(gc.epoch(), GcPhase.SWEEPING, gc.begunAtIndex()));
        return Reply.ok(applied.index());
    }

    /**
     * Completes once this replica has applied {@code index}, or fails with a TimeoutException
     * after {@code timeout}: what a session read waits for. Each call waits on its own future,
     * dropped when it times out, so requests for indexes this replica never reaches (a forged
     * index, another cluster's) leave nothing behind. (BaseStateMachine's own stale-read wait does
     * not complete its futures when the applied index moves on, in Ratis 3.3.0.)
     */
    CompletableFuture<Void> appliedAtLeast(long index, java.time.Duration timeout) {
        CompletableFuture<Void> waiter = new CompletableFuture<>();
        synchronized (appliedWaiters) {
            if (getLastAppliedTermIndex().getIndex() >= index) {
                return CompletableFuture.completedFuture(null);
            }
            appliedWaiters.computeIfAbsent(index, k -> new java.util.ArrayList<>()).add(waiter);
        }
        waiter.orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            if (e != null) {
                synchronized (appliedWaiters) {
                    java.util.List<CompletableFuture<Void>> same = appliedWaiters.get(index);
                    if (same != null && same.remove(waiter) && same.isEmpty()) {
                        appliedWaiters.remove(index);
                    }
                }
            }
        });
        return waiter;
    }

    @Override
    protected boolean updateLastAppliedTermIndex(TermIndex applied) {
        boolean moved = super.updateLastAppliedTermIndex(applied);
        java.util.List<CompletableFuture<Void>> released = new java.util.ArrayList<>();
        synchronized (appliedWaiters) {
            java.util.SortedMap<Long, java.util.List<CompletableFuture<Void>>> reached = appliedWaiters.headMap(applied.getIndex() + 1);
            reached.values().forEach(released::addAll);
            reached.clear();
        }
        released.forEach(f -> f.complete(null)); // outside the lock: completions run the reads
        return moved;
    }

    /** How many session reads wait for an index this replica has not applied yet (for tests). */
    int waitingReads() {
        synchronized (appliedWaiters) {
            return appliedWaiters.values().stream().mapToInt(java.util.List::size).sum();
        }
    }

    /** Entries without catalog content (configuration, the leader's first entry of a term). */
    @Override
    public void notifyTermIndexUpdated(long term, long index) {
        if (index <= getLastAppliedTermIndex().getIndex()) {
            return; // replayed from before the persisted marker
        }
        lifecycle.readLock().lock();
        try {
            checkOpen();
            store.markApplied(new Applied(term, index));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record applied Raft log entry " + index, e);
        } finally {
            lifecycle.readLock().unlock();
        }
        updateLastAppliedTermIndex(term, index);
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        Reply reply;
        lifecycle.readLock().lock();
        try {
            checkOpen();
            reply = query(CatalogMessages.decodeRequest(request.getContent().asReadOnlyByteBuffer()));
        } catch (MalformedMessageException e) {
            reply = Reply.refused(Status.INVALID, e.getMessage());
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            lifecycle.readLock().unlock();
        }
        return CompletableFuture.completedFuture(message(reply));
    }

    private Reply query(Request request) throws IOException {
        if (request instanceof GetImage g) {
            return Reply.images(store.get(g.name()).map(List::of).orElse(List.of()));
        }
        if (request instanceof ListImages l) {
            return Reply.images(store.list(l.prefix(), l.limit()));
        }
        return Reply.refused(Status.INVALID, request.type() + " is a write; send it through the log");
    }

    /** Catalog entries applied to RocksDB since this process started. */
    long entriesApplied() {
        return entriesApplied;
    }

    /** Catalog entries replayed from the log and skipped because RocksDB already held them. */
    long entriesSkipped() {
        return entriesSkipped;
    }

    @Override
    public void close() throws IOException {
        lifecycle.writeLock().lock();
        try {
            if (!closed && store != null) {
                store.close();
            }
            closed = true;
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private void checkOpen() throws IOException {
        if (closed || store == null) {
            throw new IOException("the catalog is closed");
        }
    }

    private static Message message(Reply reply) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(CatalogMessages.encode(reply)));
    }
}
