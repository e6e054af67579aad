package dev.cairn.server.meta;

import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.meta.CatalogMessages.CommitImage;
import dev.cairn.server.meta.CatalogMessages.DeleteImage;
import dev.cairn.server.meta.CatalogMessages.GetImage;
import dev.cairn.server.meta.CatalogMessages.ListImages;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogStore.Applied;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
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
 * <p>Without Raft snapshots Ratis replays the whole log at start; entries at or below the
 * persisted last applied index are already in RocksDB and are skipped. Snapshots from RocksDB
 * checkpoints can be added by overriding {@code takeSnapshot} and the storage, without touching
 * apply.
 */
final class CatalogStateMachine extends BaseStateMachine {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogStateMachine.class);

    private final Path catalogDir;
    /** Queries take the read side, close takes the write side: RocksDB must not be used after close. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private CatalogStore store;
    private boolean closed;
    // Written only by Ratis' apply thread; read by tests and status.
    private volatile long entriesApplied;
    private volatile long entriesSkipped;

    CatalogStateMachine(Path catalogDir) {
        this.catalogDir = catalogDir;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        store = CatalogStore.open(catalogDir);
        Applied applied = store.lastApplied();
        setLastAppliedTermIndex(TermIndex.valueOf(applied.term(), applied.index()));
        LOG.info("catalog opened; last applied term {} index {}", applied.term(), applied.index());
    }

    /** Refuses, on the leader before anything is logged, a write this build cannot apply. */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        TransactionContext trx = super.startTransaction(request);
        try {
            Request decoded = CatalogMessages.decodeRequest(request.getMessage().getContent().asReadOnlyByteBuffer());
            if (decoded.type().readOnly) {
                trx.setException(new MalformedMessageException(decoded.type() + " is a query, not a write"));
            }
        } catch (MalformedMessageException e) {
            trx.setException(e);
        }
        return trx;
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
        if (request instanceof CommitImage c) {
            Optional<ImageInfo> existing = store.get(c.name());
            if (existing.isPresent()) {
                store.markApplied(applied);
                return Reply.refused(Status.EXISTS, "image " + c.name() + " already exists (committed at index "
                        + existing.get().commitIndex() + "); images are immutable, choose a new name");
            }
            store.put(c.name(), c.root(), applied);
            return Reply.ok(applied.index());
        }
        if (request instanceof DeleteImage d) {
            if (store.get(d.name()).isEmpty()) {
                store.markApplied(applied);
                return Reply.refused(Status.NOT_FOUND, "image " + d.name() + " does not exist");
            }
            store.delete(d.name(), applied);
            return Reply.ok(applied.index());
        }
        // A query type in the log: startTransaction refuses it, but a log is applied as written.
        store.markApplied(applied);
        return Reply.refused(Status.INVALID, request.type() + " is a query, not a write");
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
