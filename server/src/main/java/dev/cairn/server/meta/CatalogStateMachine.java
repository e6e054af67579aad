package dev.cairn.server.meta;

import dev.cairn.engine.Clock;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Stamped;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogStore.Applied;
import dev.cairn.server.meta.CatalogStore.GcState;
import dev.cairn.server.meta.CatalogStore.Session;
import dev.cairn.server.meta.CatalogImageMessages.GetImage;
import dev.cairn.server.meta.CatalogImageMessages.ListImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos;
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
 * {@link CatalogStore} (each entry type by its handler, picked in {@link CatalogApply}) and
 * answers read-only queries from it.
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
 *
 * <p>Slightly over 400 lines on purpose: it is one Ratis interface whose overrides (apply,
 * query, snapshot take and load, pause and reinitialize) all share the catalog handle and the
 * lock that keeps RocksDB from being used after close; what can live apart already does
 * (entry handlers, snapshot files, session-read waiters).
 */
final class CatalogStateMachine extends BaseStateMachine {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogStateMachine.class);

    private final Path catalogDir;
    /** The handlers of the entry types; apply reads time from the entry, never from a clock. */
    private final CatalogApply entries;
    /**
     * Read for wall time only in {@link #startTransaction}, on the leader, to stamp entries;
     * otherwise only to time snapshot work for the log.
     */
    private final Clock clock;
    /** Session reads waiting for this replica to apply an index. */
    private final AppliedIndexWaiters appliedWaiters = new AppliedIndexWaiters(() -> getLastAppliedTermIndex().getIndex());
    /** Queries take the read side, close takes the write side: RocksDB must not be used after close. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final CatalogSnapshots snapshots = new CatalogSnapshots();
    private CatalogStore store;
    private boolean closed;
    private volatile long snapshotsLoaded;
    // Written only by Ratis' apply thread; read by tests and status.
    private volatile long entriesApplied;
    private volatile long entriesSkipped;
    private volatile Runnable configurationListener;

    /**
     * @param callWindowEntries a call's reply is kept until the log is this many entries past it;
     *     see {@link MetaService.Tuning}
     * @param clock the leader's clock stamped into session and GC entries
     */
    CatalogStateMachine(Path catalogDir, long callWindowEntries, Clock clock) {
        this.catalogDir = catalogDir;
        this.entries = new CatalogApply(callWindowEntries);
        this.clock = clock;
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
        long startNanos = clock.nanoTime();
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
                applied.index(), (clock.nanoTime() - startNanos) / 1_000_000);
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
        long startNanos = clock.nanoTime();
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
        LOG.info("took catalog snapshot {} in {} ms", at, (clock.nanoTime() - startNanos) / 1_000_000);
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
        return entries.callsRepeated();
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
            Request stamped = stamp(decoded, clock.millis());
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
        try (CatalogBatch batch = store.batch()) {
            Reply reply = entries.apply(request, new Applying(store, batch, applied.index()));
            store.write(batch, applied);
            return reply;
        } catch (RocksDBException e) {
            throw new IOException("cannot apply log entry " + applied.index() + ": " + e.getMessage(), e);
        }
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

    /** Access token {@code id} as this replica has applied it; empty when unknown or revoked. */
    Optional<StoredToken> token(String id) throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return store.token(id);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Every access token this replica has applied. */
    List<StoredToken> tokens() throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return store.tokens();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Every byte quota this replica has applied, with its count, in prefix order. */
    List<StoredQuota> quotas() throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return store.quotas().all();
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

    /**
     * Completes once this replica has applied {@code index}, or fails with a TimeoutException
     * after {@code timeout}: what a session read waits for.
     */
    CompletableFuture<Void> appliedAtLeast(long index, Duration timeout) {
        return appliedWaiters.await(index, timeout);
    }

    @Override
    protected boolean updateLastAppliedTermIndex(TermIndex applied) {
        boolean moved = super.updateLastAppliedTermIndex(applied);
        appliedWaiters.release(applied.getIndex());
        return moved;
    }

    /** How many session reads wait for an index this replica has not applied yet (for tests). */
    int waitingReads() {
        return appliedWaiters.size();
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
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(CatalogReplyCodec.encode(reply)));
    }
}
