package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.Clock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * One node's durable chunk store: append-only segment files, a group-commit thread that makes
 * concurrent appends durable with one fdatasync, and a RocksDB index from chunk id to record.
 * The segments are the truth; the index is rebuilt from them after a crash. Thread-safe.
 *
 * <p>This class is the store's face: it checks what comes in and keeps the store open while a
 * call runs. The work is done by {@link GroupCommit} (appends), {@link ChunkReads} (reads),
 * {@link Compactor} (compaction) and {@link Recovery} (open after a crash). It is a little over
 * 400 lines because every public method carries its part of the durability contract in its
 * javadoc (what is durable when a future completes, what a failed store answers); the code
 * behind each is a few lines of delegation.
 */
public final class ChunkStore implements AutoCloseable {

    private final ChunkStoreOptions options;
    private final ChunkIndex index;
    private final SegmentFiles files;
    private final LiveCounts live = new LiveCounts();
    private final RecoveryReport recovery;
    private final SegmentWriter writer;
    private final ChunkReads reads;
    private final Compactor compactor;
    private final GroupCommit commits;
    /** Readers hold the read lock while they use the index or a channel; close takes the write lock. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private volatile boolean closed;
    /** Held by deletes, and by compaction while it copies a segment and switches the index. */
    private final Object deleteLock = new Object();

    private ChunkStore(SegmentFiles files, ChunkStoreOptions options, ChunkIndex index, SegmentWriter.Fsync fsync,
                       SegmentWriter.SegmentOpener opener, Compactor.Hook compactionHook, Clock clock) throws IOException {
        this.files = files;
        this.options = options;
        this.index = index;
        this.recovery = Recovery.recover(files, index);
        this.writer = SegmentWriter.openLast(files, options.maxSegmentBytes(), fsync, opener, clock);
        index.forEachLocation(live::added);
        this.reads = new ChunkReads(files, index);
        this.compactor = new Compactor(files, index, writer, live, reads, deleteLock, options.compactionLiveRatio(),
                compactionHook);
        this.commits = new GroupCommit(options.maxPendingAppends(), index, writer, live, compactor, clock);
        commits.start();
    }

    /**
     * Opens (creating if needed) the store in {@code dir}: segment files under {@code dir/segments},
     * the RocksDB index under {@code dir/index}. Recovers after a crash: re-reads the segments
     * written after the index's checkpoint, cuts off a torn tail and skips corrupt records.
     */
    public static ChunkStore open(Path dir, ChunkStoreOptions options) throws IOException {
        return open(dir, options, SegmentWriter.FDATASYNC);
    }

    static ChunkStore open(Path dir, ChunkStoreOptions options, SegmentWriter.Fsync fsync) throws IOException {
        return open(dir, options, fsync, SegmentWriter.FILES, Compactor.NO_HOOK);
    }

    static ChunkStore open(Path dir, ChunkStoreOptions options, SegmentWriter.Fsync fsync,
                           SegmentWriter.SegmentOpener opener, Compactor.Hook compactionHook) throws IOException {
        return open(dir, options, fsync, opener, compactionHook, Clock.SYSTEM);
    }

    /** {@link #open(Path, ChunkStoreOptions)} with every test seam: the disk's fsync and files, compaction steps, time. */
    static ChunkStore open(Path dir, ChunkStoreOptions options, SegmentWriter.Fsync fsync,
                           SegmentWriter.SegmentOpener opener, Compactor.Hook compactionHook, Clock clock)
            throws IOException {
        Path segments = dir.resolve("segments");
        if (!Files.isDirectory(segments)) {
            Files.createDirectories(segments);
            SegmentFiles.fsyncDirectory(dir);
        }
        ChunkIndex index = ChunkIndex.open(dir.resolve("index"));
        try {
            return new ChunkStore(new SegmentFiles(segments), options, index, fsync, opener, compactionHook, clock);
        } catch (IOException | RuntimeException e) {
            index.close();
            throw e;
        }
    }

    /**
     * Appends the chunks not already present. The future completes only after an fdatasync that
     * covers every one of them has returned (group commit across concurrent callers), on the commit
     * thread: chain heavy work with an *Async stage. Each chunk is re-hashed first, on the caller's
     * thread; a chunk whose bytes do not match its id fails the future with
     * {@link ChunkCorruptException} and nothing of that call is written. Chunks already present count
     * as done. The chunks' buffers must not change until the future completes.
     */
    public CompletableFuture<Void> append(List<ChunkData> chunks) {
        for (ChunkData chunk : chunks) {
            IOException refused = AppendChecks.refusal(chunk, options.maxChunkBytes());
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
        }
        return enqueue(List.copyOf(chunks), List.of());
    }

    /**
     * Appends packs as {@link #append} appends chunks: each pack is decoded and every member
     * re-hashed first, on the caller's thread, and one bad member refuses the whole call. A pack
     * becomes one record; each member is indexed on its own, and a member the store already holds
     * keeps its existing copy (a pack whose members are all present is not written).
     */
    public CompletableFuture<Void> appendPacks(List<ChunkPack> packs) {
        for (ChunkPack pack : packs) {
            IOException refused = AppendChecks.refusal(pack, options.maxChunkBytes());
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
        }
        return enqueue(List.of(), List.copyOf(packs));
    }

    /**
     * The write path of a PUT: {@code marker} marks the chunks, then they are appended as by
     * {@link #append(List)}; the marker's hold is released only when the append's future completes,
     * so nothing that acts on the marks (a GC sweep) can come between the marks and the fdatasync.
     */
    public CompletableFuture<Void> append(List<ChunkData> chunks, AppendMarker marker) {
        List<ChunkId> ids = new ArrayList<>(chunks.size());
        chunks.forEach(c -> ids.add(c.id()));
        return markThenAppend(ids, marker, () -> append(chunks));
    }

    /** {@link #append(List, AppendMarker)} for packs: every member is marked, then the packs are appended. */
    public CompletableFuture<Void> appendPacks(List<ChunkPack> packs, AppendMarker marker) {
        List<ChunkId> ids = new ArrayList<>();
        packs.forEach(p -> p.members().forEach(m -> ids.add(m.id())));
        return markThenAppend(ids, marker, () -> appendPacks(packs));
    }

    private static CompletableFuture<Void> markThenAppend(List<ChunkId> ids, AppendMarker marker,
                                                          Supplier<CompletableFuture<Void>> append) {
        AppendMarker.Hold hold;
        try {
            hold = marker.mark(ids);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> appended;
        try {
            appended = append.get();
        } catch (RuntimeException e) {
            hold.release();
            throw e;
        }
        return appended.whenComplete((v, e) -> hold.release());
    }

    private CompletableFuture<Void> enqueue(List<ChunkData> chunks, List<ChunkPack> packs) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        if (chunks.isEmpty() && packs.isEmpty()) {
            future.complete(null);
            return future;
        }
        ChunkStoreFailedException failed = commits.failure();
        if (failed != null) {
            future.completeExceptionally(failed);
            return future;
        }
        lifecycle.readLock().lock();
        try {
            if (closed) {
                future.completeExceptionally(new IOException("chunk store is closed"));
            } else if (!commits.offerAppend(chunks, packs, future)) {
                future.completeExceptionally(new IOException("chunk store is overloaded: "
                        + options.maxPendingAppends() + " appends are waiting for the disk; retry later"));
            }
        } finally {
            lifecycle.readLock().unlock();
        }
        return future;
    }

    /** True when the chunk is in the index, which only ever names records that an fdatasync covered. */
    public boolean contains(ChunkId id) {
        return storedLength(id) >= 0;
    }

    /**
     * The encoded length of the chunk's durable copy, from the index alone (no read), or -1 when
     * the index does not name it.
     */
    public int storedLength(ChunkId id) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            ChunkIndex.Location at = index.get(id);
            return at == null ? -1 : at.storedLength();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * The chunk as stored (codec, raw length, bytes), CRC-checked; empty when absent. A member of a
     * pack comes back RAW, decoded out of its pack. A CRC mismatch, a pack that does not decode, or a
     * record that is not the one the index names, throws {@link ChunkCorruptException}.
     */
    public Optional<ChunkData> read(ChunkId id) throws IOException {
        return read(id, null);
    }

    /** {@link #read(ChunkId)}, decoding each pack once per {@code cache} (may be null). */
    public Optional<ChunkData> read(ChunkId id, ReadCache cache) throws IOException {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return reads.read(id, cache);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Packs decoded by one batch of reads (one GET answer), so that a pack is read and decoded once
     * however many of its members the batch asks for. Not thread-safe: one per batch.
     */
    public static final class ReadCache {
        /** Bound on the packs held: a cleared cache costs decodes, never a wrong answer. */
        private static final int MAX_PACKS = 256;

        private final Map<ChunkIndex.Location, RecordDecoder.DecodedPack> packs = new HashMap<>();

        RecordDecoder.DecodedPack get(ChunkIndex.Location record) {
            return packs.get(record);
        }

        void put(ChunkIndex.Location record, RecordDecoder.DecodedPack pack) {
            if (packs.size() >= MAX_PACKS) {
                packs.clear();
            }
            packs.put(record, pack);
        }
    }

    /**
     * Tombstones the chunk in the index; returns whether it was present. The record stays in its
     * segment until compaction. The tombstone goes to the index WAL without sync: a power loss can
     * bring a deleted chunk back, which costs space, never correctness (its bytes are still valid).
     */
    public boolean delete(ChunkId id) throws IOException {
        return tombstone(id) >= 0;
    }

    /** Like {@link #delete}, returning the stored bytes of the chunk it tombstoned, or -1 when it was absent. */
    public long tombstone(ChunkId id) throws IOException {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            synchronized (deleteLock) {
                ChunkIndex.Location location = index.get(id);
                if (location == null) {
                    return -1;
                }
                index.delete(id);
                live.removed(location);
                return location.storedLength();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * A page of the chunk ids this store holds, in id order after {@code after} (null for the
     * first page). Chunks appended or deleted meanwhile may or may not appear.
     */
    public List<ChunkId> idsAfter(ChunkId after, int limit) {
        return index.idsAfter(after, limit);
    }

    /** Live chunks. */
    public long chunkCount() {
        return live.chunks();
    }

    /** Bytes of live chunk payloads (as stored, without record headers). */
    public long storedBytes() {
        return live.bytes();
    }

    /** fdatasync calls made for appends since open. */
    public long syncCount() {
        return writer.syncCount();
    }

    /** Records appended to segments since open (chunks already present are not counted). */
    public long recordsWritten() {
        return commits.recordsWritten();
    }

    /** What recovery found when this store opened. */
    public RecoveryReport recovery() {
        return recovery;
    }

    /**
     * True after an fsync error (or another error that leaves the segments in doubt): every append
     * fails until the node is restarted. A full disk does not fail the store. For health reporting.
     */
    public boolean isFailed() {
        return commits.failure() != null;
    }

    /** Why the store stopped taking appends, or null while it takes them. */
    public ChunkStoreFailedException failure() {
        return commits.failure();
    }

    /** Why the store failed, or null while it is healthy. */
    public String failureMessage() {
        ChunkStoreFailedException failed = commits.failure();
        return failed == null ? null : failed.getMessage();
    }

    /** Told of every fdatasync of appended records: how long it took and how many records it covered. */
    public interface SyncListener {
        void synced(long nanos, int records);
    }

    /** Reports every append fdatasync to {@code listener} (the node's metrics); called on the commit thread. */
    public void onSync(SyncListener listener) {
        writer.onSync(listener);
    }

    /**
     * Rewrites the sealed segments whose live ratio (live record bytes / file size) is under
     * {@link ChunkStoreOptions#compactionLiveRatio()}, on the commit thread (appends wait meanwhile).
     * Each segment: copy its live records into the open segment and fdatasync, switch their index
     * entries and sync the index WAL, then delete the old file and fsync the directory.
     */
    public CompletableFuture<CompactionReport> compact() {
        CompletableFuture<CompactionReport> future = new CompletableFuture<>();
        lifecycle.readLock().lock();
        try {
            if (closed) {
                future.completeExceptionally(new IOException("chunk store is closed"));
            } else if (!commits.offerCompaction(future)) {
                future.completeExceptionally(new IOException("chunk store is overloaded; compact later"));
            }
        } finally {
            lifecycle.readLock().unlock();
        }
        return future;
    }

    /** Live ratio of each segment file (live record bytes / file size), for operators and tests. */
    public Map<Integer, Double> segmentLiveRatios() throws IOException {
        return compactor.liveRatios();
    }

    long indexWriteNanos() {
        return commits.indexWriteNanos();
    }

    void flushIndex() throws IOException {
        index.flush();
    }

    /** Test seam: the commit thread stops before taking its next batch until {@link #resumeCommits()}. */
    void pauseCommits() {
        commits.pause();
    }

    void resumeCommits() {
        commits.resume();
    }

    Path segmentPath(int segment) {
        return files.path(segment);
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("chunk store is closed");
        }
    }

    /** Waits for the appends already accepted to be committed, then closes the files and the index. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            lifecycle.writeLock().unlock();
        }
        boolean interrupted = commits.closeAndJoin();
        reads.close();
        compactor.close();
        index.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
