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
 * <p>The catalog store, its lock and the snapshot load live in {@link CatalogHandle}; entry
 * handlers, snapshot files and session-read waiters live apart too.
 */
final class CatalogStateMachine extends BaseStateMachine {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogStateMachine.class);

    /** The handlers of the entry types; apply reads time from the entry, never from a clock. */
    private final CatalogApply entries;
    /**
     * Read for wall time only in {@link #startTransaction}, on the leader, to stamp entries;
     * otherwise only to time snapshot work for the log.
     */
    private final Clock clock;
    /** Session reads waiting for this replica to apply an index. */
    private final AppliedIndexWaiters appliedWaiters = new AppliedIndexWaiters(() -> getLastAppliedTermIndex().getIndex());
    private final CatalogSnapshots snapshots = new CatalogSnapshots();
    private final Path catalogDir;
    /** The store; every use goes through it, so RocksDB is never used after close. */
    private final CatalogHandle catalog;
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
        this.catalog = new CatalogHandle(catalogDir, snapshots, clock);
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        snapshots.init(raftStorage);
        CatalogSnapshots.cleanLeftovers(catalogDir);
        catalog.open();
        Applied applied = catalog.use(CatalogStore::lastApplied);
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
        catalog.reload();
        Applied applied = catalog.use(CatalogStore::lastApplied);
        setLastAppliedTermIndex(TermIndex.valueOf(applied.term(), applied.index()));
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
        LOG.info("catalog reinitialized; last applied term {} index {}", applied.term(), applied.index());
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
        catalog.use(store -> {
            Applied persisted = store.lastApplied();
            if (persisted.index() != at.getIndex()) {
                throw new IllegalStateException("catalog is at index " + persisted.index()
                        + " but the state machine reports " + at + "; not taking a snapshot");
            }
            snapshots.take(store, at);
            return null;
        });
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
        return catalog.use(store -> store.session(sessionId));
    }

    /** The current GC epoch and phase on this replica. */
    GcState gcState() throws IOException {
        return catalog.use(CatalogStore::gcState);
    }

    /** Calls applied again (a client retry) and answered with their recorded reply. */
    long callsRepeated() {
        return entries.callsRepeated();
    }

    /** Times this process replaced its catalog by a snapshot (at start or after an install). */
    long snapshotsLoaded() {
        return catalog.snapshotsLoaded();
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
        try {
            reply = catalog.use(store -> apply(store, request, applied));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot apply Raft log entry " + index + " to the catalog", e);
        }
        entriesApplied++;
        updateLastAppliedTermIndex(applied.term(), applied.index());
        return CompletableFuture.completedFuture(message(reply));
    }

    private Reply apply(CatalogStore store, Request request, Applied applied) throws IOException {
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
        return catalog.use(store -> new Membership(store.membershipIndex(), store.members()));
    }

    /** Access token {@code id} as this replica has applied it; empty when unknown or revoked. */
    Optional<StoredToken> token(String id) throws IOException {
        return catalog.use(store -> store.token(id));
    }

    /** Every access token this replica has applied. */
    List<StoredToken> tokens() throws IOException {
        return catalog.use(CatalogStore::tokens);
    }

    /** Every byte quota this replica has applied, with its count, in prefix order. */
    List<StoredQuota> quotas() throws IOException {
        return catalog.use(store -> store.quotas().all());
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
        try {
            catalog.use(store -> {
                store.markApplied(new Applied(term, index));
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record applied Raft log entry " + index, e);
        }
        updateLastAppliedTermIndex(term, index);
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        Reply reply;
        try {
            reply = catalog.use(store -> query(store,
                    CatalogMessages.decodeRequest(request.getContent().asReadOnlyByteBuffer())));
        } catch (MalformedMessageException e) {
            reply = Reply.refused(Status.INVALID, e.getMessage());
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return CompletableFuture.completedFuture(message(reply));
    }

    private static Reply query(CatalogStore store, Request request) throws IOException {
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
        catalog.close();
    }

    private static Message message(Reply reply) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(CatalogReplyCodec.encode(reply)));
    }
}
