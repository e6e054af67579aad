package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's durable chunk store: append-only segment files, a group-commit thread that makes
 * concurrent appends durable with one fdatasync, and a RocksDB index from chunk id to record.
 * The segments are the truth; the index is rebuilt from them after a crash. Thread-safe.
 */
public final class ChunkStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChunkStore.class);

    /** How a segment's written bytes are made durable; a seam for fault-injection tests. */
    interface Fsync {
        void force(FileChannel segment) throws IOException;
    }

    /** fdatasync: the file's data and the metadata needed to read it back (its size). */
    static final Fsync FDATASYNC = segment -> segment.force(false);

    /**
     * Opens a segment file for appending; a seam for fault-injection tests (a channel that fails
     * its writes or its fsync the way a failing or full disk does).
     */
    interface SegmentOpener {
        FileChannel open(Path file, boolean createNew) throws IOException;
    }

    static final SegmentOpener FILES = (file, createNew) -> createNew
            ? FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
            : FileChannel.open(file, StandardOpenOption.WRITE);

    /** The steps of compacting one segment, in order; after each one a crash must be harmless. */
    enum CompactionStep {
        /** Live records copied into the open segment and fdatasync'd (the old ones still indexed). */
        COPIED,
        /** Index entries switched to the copies and the index WAL synced. */
        INDEX_SWITCHED,
        /** Old segment file deleted and its directory fsync'd. */
        OLD_SEGMENT_REMOVED
    }

    /** Called after each compaction step; a test seam that throws to simulate a crash there. */
    interface CompactionHook {
        void reached(CompactionStep step, int segment) throws IOException;
    }

    static final CompactionHook NO_HOOK = (step, segment) -> { };

    private static final int RECOVERY_BATCH_RECORDS = 10_000;
    /** Bytes of live records copied per write + fdatasync + index switch during compaction. */
    private static final long COMPACTION_BATCH_BYTES = 16L * 1024 * 1024;

    /** Work for the commit thread, which alone writes segments. */
    private sealed interface Task permits PendingAppend, Compaction, Close {}

    private record PendingAppend(List<ChunkData> chunks, List<ChunkPack> packs, CompletableFuture<Void> future)
            implements Task {}

    /**
     * One record to write and the index entries it brings: a chunk's own record (one entry, slot
     * 0), or a pack's record with the members to index (members the store already held, or that
     * compaction found dead, are left out) and their slots.
     */
    private record Outgoing(ByteBuffer header, ByteBuffer body, List<ChunkId> ids, List<Integer> slots, int members) {

        static Outgoing of(ChunkData chunk) {
            ByteBuffer body = chunk.bytes().duplicate();
            return new Outgoing(SegmentRecord.header(chunk.id(), chunk.codec(), chunk.rawLength(), body), body,
                    List.of(chunk.id()), List.of(0), 0);
        }

        /** {@code pack}'s record, whose stored bytes are {@code body}, indexing members {@code slots}. */
        static Outgoing of(ChunkPack pack, ByteBuffer body, List<Integer> slots) {
            List<ChunkId> ids = new ArrayList<>(slots.size());
            slots.forEach(slot -> ids.add(pack.members().get(slot).id()));
            return new Outgoing(SegmentRecord.packHeader(pack, body), body, ids, List.copyOf(slots),
                    pack.members().size());
        }

        long recordLength() {
            return SegmentRecord.HEADER_BYTES + (long) body.remaining();
        }

        /** Where entry {@code i} lives once the record is at {@code record}. */
        ChunkIndex.Location entryAt(ChunkIndex.Location record, int i) {
            return members == 0 ? record : new ChunkIndex.Location(record.segment(), record.offset(),
                    record.recordLength(), slots.get(i), members);
        }
    }

    private record Compaction(CompletableFuture<CompactionReport> future) implements Task {}

    private enum Close implements Task { INSTANCE }

    private final Path segmentsDir;
    private final ChunkStoreOptions options;
    private final ChunkIndex index;
    private final Fsync fsync;
    private final SegmentOpener opener;
    private final CompactionHook compactionHook;
    private final RecoveryReport recovery;

    private final ArrayBlockingQueue<Task> queue;
    private final Thread committer;
    /** Readers hold the read lock while they use the index or a channel; close takes the write lock. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private volatile boolean closed;
    private volatile ChunkStoreFailedException failure;
    private final Map<Integer, FileChannel> readChannels = new ConcurrentHashMap<>();
    private final Object deleteLock = new Object();

    private final AtomicLong liveChunks = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong syncs = new AtomicLong();
    private volatile SyncListener syncListener = (nanos, records) -> { };
    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong indexWriteNanos = new AtomicLong();
    /** Record bytes (header + payload) of the live chunks in each segment: the compaction input. */
    private final Map<Integer, AtomicLong> liveRecordBytes = new ConcurrentHashMap<>();

    // Owned by the commit thread after the constructor.
    private int openSegment;
    private FileChannel writeChannel;
    private long writeOffset;

    private final Object gate = new Object();
    private boolean paused;
    private ChunkEncoder compactionEncoder;

    private ChunkStore(Path segmentsDir, ChunkStoreOptions options, ChunkIndex index, Fsync fsync,
                       SegmentOpener opener, CompactionHook compactionHook) throws IOException {
        this.segmentsDir = segmentsDir;
        this.options = options;
        this.index = index;
        this.fsync = fsync;
        this.opener = opener;
        this.compactionHook = compactionHook;
        // One more slot than appends allowed, so close() and compact() always find room.
        this.queue = new ArrayBlockingQueue<>(options.maxPendingAppends() + 2);
        this.recovery = recover();
        index.forEachLocation(location -> {
            liveChunks.incrementAndGet();
            liveBytes.addAndGet(location.storedLength());
            addLive(location.segment(), location.liveRecordBytes());
        });
        this.committer = new Thread(this::commitLoop, "cairn-chunk-store-commit");
        committer.setDaemon(true);
        committer.start();
    }

    /**
     * Opens (creating if needed) the store in {@code dir}: segment files under {@code dir/segments},
     * the RocksDB index under {@code dir/index}. Recovers after a crash: re-reads the segments
     * written after the index's checkpoint, cuts off a torn tail and skips corrupt records.
     */
    public static ChunkStore open(Path dir, ChunkStoreOptions options) throws IOException {
        return open(dir, options, FDATASYNC);
    }

    static ChunkStore open(Path dir, ChunkStoreOptions options, Fsync fsync) throws IOException {
        return open(dir, options, fsync, FILES, NO_HOOK);
    }

    static ChunkStore open(Path dir, ChunkStoreOptions options, Fsync fsync, SegmentOpener opener,
                           CompactionHook compactionHook) throws IOException {
        Path segments = dir.resolve("segments");
        if (!Files.isDirectory(segments)) {
            Files.createDirectories(segments);
            fsyncDirectory(dir);
        }
        ChunkIndex index = ChunkIndex.open(dir.resolve("index"));
        try {
            return new ChunkStore(segments, options, index, fsync, opener, compactionHook);
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
            IOException refused = refusal(chunk);
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
            IOException refused = refusal(pack);
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
        }
        return enqueue(List.of(), List.copyOf(packs));
    }

    private CompletableFuture<Void> enqueue(List<ChunkData> chunks, List<ChunkPack> packs) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        if (chunks.isEmpty() && packs.isEmpty()) {
            future.complete(null);
            return future;
        }
        ChunkStoreFailedException failed = failure;
        if (failed != null) {
            future.completeExceptionally(failed);
            return future;
        }
        lifecycle.readLock().lock();
        try {
            if (closed) {
                future.completeExceptionally(new IOException("chunk store is closed"));
            } else if (queue.size() >= options.maxPendingAppends()
                    || !queue.offer(new PendingAppend(chunks, packs, future))) {
                future.completeExceptionally(new IOException("chunk store is overloaded: "
                        + options.maxPendingAppends() + " appends are waiting for the disk; retry later"));
            }
        } finally {
            lifecycle.readLock().unlock();
        }
        return future;
    }

    private IOException refusal(ChunkData chunk) {
        if (chunk.storedLength() > options.maxChunkBytes()) {
            return new IOException("chunk " + chunk.id() + " is " + chunk.storedLength()
                    + " bytes, more than this store's limit of " + options.maxChunkBytes() + "; nothing was written");
        }
        boolean matches;
        try {
            matches = chunk.verify();
        } catch (RuntimeException e) {
            // No codec is banned here: whatever ChunkData can decode, the store accepts. A codec it
            // cannot decode yet (UnsupportedOperationException) or bytes it cannot decode are refused.
            return new IOException("cannot verify chunk " + chunk.id() + " with codec " + chunk.codec()
                    + ": " + e.getMessage() + "; nothing was written", e);
        }
        if (!matches) {
            return new ChunkCorruptException(chunk.id(), "chunk " + chunk.id()
                    + " refused: its bytes do not hash to its id; nothing of this append was written");
        }
        return null;
    }

    private IOException refusal(ChunkPack pack) {
        String what = "pack of " + pack.members().size() + " chunks from " + pack.members().get(0).id();
        if (SegmentRecord.MEMBER_BYTES * pack.members().size() + pack.storedLength() > options.maxChunkBytes()) {
            return new IOException(what + " is " + pack.storedLength() + " bytes, more than this store's limit of "
                    + options.maxChunkBytes() + "; nothing was written");
        }
        if (!pack.verify()) {
            return new ChunkCorruptException(pack.members().get(0).id(), what
                    + " refused: its frame does not decode to bytes that hash to its members' ids;"
                    + " nothing of this append was written");
        }
        return null;
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

    /**
     * Packs decoded by one batch of reads (one GET answer), so that a pack is read and decoded once
     * however many of its members the batch asks for. Not thread-safe: one per batch.
     */
    public static final class ReadCache {
        /** Bound on the packs held: a cleared cache costs decodes, never a wrong answer. */
        private static final int MAX_PACKS = 256;

        private record Decoded(ChunkPack pack, byte[] raw) {}

        private final Map<ChunkIndex.Location, Decoded> packs = new java.util.HashMap<>();

        private void put(ChunkIndex.Location record, ChunkPack pack, byte[] raw) {
            if (packs.size() >= MAX_PACKS) {
                packs.clear();
            }
            packs.put(record, new Decoded(pack, raw));
        }
    }

    /** {@link #read(ChunkId)}, decoding each pack once per {@code cache} (may be null). */
    public Optional<ChunkData> read(ChunkId id, ReadCache cache) throws IOException {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            for (int attempt = 0; ; attempt++) {
                ChunkIndex.Location location = index.get(id);
                if (location == null) {
                    return Optional.empty();
                }
                ChunkIndex.Location recordAt = location.inPack() && cache != null
                        ? new ChunkIndex.Location(location.segment(), location.offset(), location.recordLength()) : null;
                ReadCache.Decoded hit = recordAt == null ? null : cache.packs.get(recordAt);
                if (hit != null) {
                    return Optional.of(member(id, location, hit.pack(), hit.raw()));
                }
                ByteBuffer record;
                try {
                    record = readRecord(location);
                } catch (NoSuchFileException e) {
                    // Compaction moved the record and removed its old segment after our lookup.
                    if (attempt < 2 && !location.equals(index.get(id))) {
                        continue;
                    }
                    throw new ChunkCorruptException(id, "chunk " + id + ": its record in segment "
                            + location.segment() + " is gone (the segment was compacted while the record was"
                            + " unreadable); read it from a replica");
                }
                if (!location.inPack()) {
                    return Optional.of(decode(id, location, record));
                }
                ChunkPack pack = decodePack(id, location, record);
                byte[] raw;
                try {
                    raw = pack.decode();
                } catch (ChunkData.CorruptChunkException e) {
                    throw new ChunkCorruptException(id, "chunk " + id + ": its pack in segment " + location.segment()
                            + " at offset " + location.offset() + " does not decode (" + e.getMessage()
                            + "); read it from a replica");
                }
                if (recordAt != null) {
                    cache.put(recordAt, pack, raw);
                }
                return Optional.of(member(id, location, pack, raw));
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private ByteBuffer readRecord(ChunkIndex.Location location) throws IOException {
        for (int attempt = 0; ; attempt++) {
            FileChannel channel = readChannel(location.segment());
            ByteBuffer record = ByteBuffer.allocate(location.recordLength());
            try {
                SegmentScanner.readFully(channel, record, location.offset());
                return record.flip();
            } catch (ClosedChannelException e) {
                // An interrupted reader closes the shared channel for everyone: reopen it once.
                readChannels.remove(location.segment(), channel);
                if (attempt > 0) {
                    throw e;
                }
            }
        }
    }

    private static ChunkData decode(ChunkId id, ChunkIndex.Location location, ByteBuffer record)
            throws ChunkCorruptException {
        SegmentRecord.Header header = SegmentRecord.parseHeader(record);
        String where = "segment " + location.segment() + " at offset " + location.offset();
        if (header == null || !header.id().equals(id) || header.recordLength() != location.recordLength()) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the record in " + where
                    + " is not this chunk's record (damaged header); read it from a replica");
        }
        ByteBuffer stored = record.slice(SegmentRecord.HEADER_BYTES, header.storedLength());
        if (!SegmentRecord.crcMatches(record, stored)) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the record in " + where
                    + " fails its CRC32C; read it from a replica");
        }
        return new ChunkData(id, ChunkCodec.fromCode(header.codecCode()), header.rawLength(), stored);
    }

    /** The pack the index names for {@code id}, CRC-checked, its frame not decoded yet. */
    private static ChunkPack decodePack(ChunkId id, ChunkIndex.Location location, ByteBuffer record)
            throws ChunkCorruptException {
        SegmentRecord.Header header = SegmentRecord.parseHeader(record);
        String where = "segment " + location.segment() + " at offset " + location.offset();
        if (header == null || header.members() != location.members() || header.recordLength() != location.recordLength()) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the record in " + where
                    + " is not the pack the index names (damaged header); read it from a replica");
        }
        ByteBuffer stored = record.slice(SegmentRecord.HEADER_BYTES, header.storedLength());
        if (!SegmentRecord.crcMatches(record, stored)) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the pack in " + where
                    + " fails its CRC32C; read it from a replica");
        }
        try {
            return SegmentRecord.pack(header, stored);
        } catch (IllegalArgumentException e) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the pack in " + where + " has an impossible"
                    + " member table (" + e.getMessage() + "); read it from a replica");
        }
    }

    /** Member {@code location.slot()} of a decoded pack, checked to be the chunk asked for. */
    private static ChunkData member(ChunkId id, ChunkIndex.Location location, ChunkPack pack, byte[] raw)
            throws ChunkCorruptException {
        if (!pack.members().get(location.slot()).id().equals(id)) {
            throw new ChunkCorruptException(id, "chunk " + id + ": slot " + location.slot() + " of the pack in segment "
                    + location.segment() + " at offset " + location.offset() + " holds another chunk; read it from a replica");
        }
        return pack.member(location.slot(), raw);
    }

    private FileChannel readChannel(int segment) throws IOException {
        FileChannel channel = readChannels.get(segment);
        if (channel != null) {
            return channel;
        }
        FileChannel opened = FileChannel.open(segmentPath(segment), StandardOpenOption.READ);
        FileChannel raced = readChannels.putIfAbsent(segment, opened);
        if (raced != null) {
            opened.close();
            return raced;
        }
        return opened;
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
                addLive(location.segment(), -location.liveRecordBytes());
                liveChunks.decrementAndGet();
                liveBytes.addAndGet(-location.storedLength());
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
        return liveChunks.get();
    }

    /** Bytes of live chunk payloads (as stored, without record headers). */
    public long storedBytes() {
        return liveBytes.get();
    }

    /** fdatasync calls made for appends since open. */
    public long syncCount() {
        return syncs.get();
    }

    /** Records appended to segments since open (chunks already present are not counted). */
    public long recordsWritten() {
        return recordsWritten.get();
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
        return failure != null;
    }

    /** Why the store stopped taking appends, or null while it takes them. */
    public ChunkStoreFailedException failure() {
        return failure;
    }

    /** Why the store failed, or null while it is healthy. */
    public String failureMessage() {
        ChunkStoreFailedException failed = failure;
        return failed == null ? null : failed.getMessage();
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
            } else if (!queue.offer(new Compaction(future))) {
                future.completeExceptionally(new IOException("chunk store is overloaded; compact later"));
            }
        } finally {
            lifecycle.readLock().unlock();
        }
        return future;
    }

    /** Live ratio of each segment file (live record bytes / file size), for operators and tests. */
    public Map<Integer, Double> segmentLiveRatios() throws IOException {
        Map<Integer, Double> ratios = new java.util.TreeMap<>();
        for (int segment : listSegments()) {
            long size = Files.size(segmentPath(segment));
            ratios.put(segment, size == 0 ? 1.0 : (double) liveOf(segment) / size);
        }
        return ratios;
    }

    private void addLive(int segment, long recordBytes) {
        liveRecordBytes.computeIfAbsent(segment, s -> new AtomicLong()).addAndGet(recordBytes);
    }

    private long liveOf(int segment) {
        AtomicLong live = liveRecordBytes.get(segment);
        return live == null ? 0 : live.get();
    }

    long indexWriteNanos() {
        return indexWriteNanos.get();
    }

    void flushIndex() throws IOException {
        index.flush();
    }

    /** Test seam: the commit thread stops before taking its next batch until {@link #resumeCommits()}. */
    void pauseCommits() {
        synchronized (gate) {
            paused = true;
        }
    }

    void resumeCommits() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("chunk store is closed");
        }
    }

    // ---- group commit ------------------------------------------------------------------------

    private void commitLoop() {
        List<Task> tasks = new ArrayList<>();
        List<PendingAppend> batch = new ArrayList<>();
        List<Compaction> compactions = new ArrayList<>();
        boolean closing = false;
        while (!closing) {
            try {
                Task first = queue.take();
                awaitGate();
                tasks.add(first);
                queue.drainTo(tasks);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                tasks.addAll(queue);
                closing = true;
            }
            // Nothing is queued after Close: append refuses once closed is set, before Close is put.
            for (Task task : tasks) {
                if (task instanceof PendingAppend append) {
                    batch.add(append);
                } else if (task instanceof Compaction compaction) {
                    compactions.add(compaction);
                } else {
                    closing = true;
                }
            }
            commit(batch);
            for (Compaction compaction : compactions) {
                compactNow(compaction.future());
            }
            tasks.clear();
            batch.clear();
            compactions.clear();
        }
        closeQuietly(writeChannel);
    }

    private void awaitGate() throws InterruptedException {
        synchronized (gate) {
            while (paused) {
                gate.wait();
            }
        }
    }

    private void commit(List<PendingAppend> batch) {
        if (batch.isEmpty()) {
            return;
        }
        if (failure != null) {
            fail(batch, failure);
            return;
        }
        try {
            List<Outgoing> fresh = new ArrayList<>();
            Set<ChunkId> seen = new HashSet<>();
            for (PendingAppend pending : batch) {
                for (ChunkData chunk : pending.chunks()) {
                    if (seen.add(chunk.id()) && index.get(chunk.id()) == null) {
                        fresh.add(Outgoing.of(chunk));
                    }
                }
                for (ChunkPack pack : pending.packs()) {
                    List<Integer> slots = new ArrayList<>();
                    for (int slot = 0; slot < pack.members().size(); slot++) {
                        ChunkId id = pack.members().get(slot).id();
                        if (seen.add(id) && index.get(id) == null) {
                            slots.add(slot);
                        }
                    }
                    if (!slots.isEmpty()) {
                        fresh.add(Outgoing.of(pack, SegmentRecord.packBody(pack), slots));
                    }
                }
            }
            if (!fresh.isEmpty()) {
                writeDurably(fresh);
            }
            for (PendingAppend pending : batch) {
                pending.future().complete(null);
            }
        } catch (DiskFullException e) {
            // writeAndSync cut the partial write off again: the store stays usable, nothing that was
            // acknowledged is touched, and this batch was not acknowledged.
            LOG.warn("{}", e.getMessage());
            fail(batch, e);
        } catch (IOException | RuntimeException e) {
            ChunkStoreFailedException failed = new ChunkStoreFailedException(e);
            failure = failed;
            LOG.error("chunk store failed in segment {} at offset {}; refusing all appends until restart",
                    openSegment, writeOffset, e);
            fail(batch, failed);
        }
    }

    /** Writes the records, fdatasyncs them, then indexes them; only then may their futures complete. */
    private void writeDurably(List<Outgoing> records) throws IOException {
        List<ChunkIndex.Location> written = writeAndSyncRecords(records);
        List<ChunkId> ids = new ArrayList<>(records.size());
        List<ChunkIndex.Location> locations = new ArrayList<>(records.size());
        for (int r = 0; r < records.size(); r++) {
            Outgoing record = records.get(r);
            for (int i = 0; i < record.ids().size(); i++) {
                ids.add(record.ids().get(i));
                locations.add(record.entryAt(written.get(r), i));
            }
        }
        // Every record above is now covered by an fdatasync that has returned (writeAndSync).
        // Only now may the index name them, and only after that may their futures complete.
        long start = System.nanoTime();
        index.put(ids, locations, new ChunkIndex.Checkpoint(openSegment, writeOffset));
        indexWriteNanos.addAndGet(System.nanoTime() - start);
        for (ChunkIndex.Location location : locations) {
            addLive(location.segment(), location.liveRecordBytes());
            liveBytes.addAndGet(location.storedLength());
        }
        liveChunks.addAndGet(ids.size());
        recordsWritten.addAndGet(records.size());
    }

    /** Appends the records to the open segment (rolling as needed) and fdatasyncs them; returns where each went. */
    private List<ChunkIndex.Location> writeAndSyncRecords(List<Outgoing> records) throws IOException {
        List<ByteBuffer> run = new ArrayList<>(2 * records.size());
        List<ChunkIndex.Location> locations = new ArrayList<>(records.size());
        long runBytes = 0;
        for (Outgoing record : records) {
            long recordLength = record.recordLength();
            if (writeOffset + runBytes > 0 && writeOffset + runBytes + recordLength > options.maxSegmentBytes()) {
                writeAndSync(run, runBytes);
                run.clear();
                runBytes = 0;
                rollSegment();
            }
            run.add(record.header().duplicate());
            run.add(record.body().duplicate());
            locations.add(new ChunkIndex.Location(openSegment, writeOffset + runBytes, (int) recordLength));
            runBytes += recordLength;
        }
        writeAndSync(run, runBytes);
        return locations;
    }

    private void writeAndSync(List<ByteBuffer> run, long runBytes) throws IOException {
        if (run.isEmpty()) {
            return;
        }
        ByteBuffer[] buffers = run.toArray(new ByteBuffer[0]);
        int first = 0;
        try {
            // A write may be short (a signal, a nearly full disk): keep going from where it stopped.
            while (first < buffers.length) {
                writeChannel.write(buffers, first, buffers.length - first);
                while (first < buffers.length && !buffers[first].hasRemaining()) {
                    first++;
                }
            }
        } catch (IOException e) {
            if (!isDiskFull(e)) {
                throw e;
            }
            // Cut the partial records off (they were never acknowledged) so the next batch starts on
            // a record boundary; if even that fails, the caller fails the store.
            writeChannel.truncate(writeOffset);
            writeChannel.position(writeOffset);
            throw new DiskFullException("disk full: no room for " + runBytes + " bytes in segment "
                    + openSegment + " at offset " + writeOffset + " (" + e.getMessage() + "); nothing of"
                    + " this append was acknowledged and everything acknowledged before is intact;"
                    + " free space on the data disk, then retry", e);
        }
        // No retry on failure: after a failed fdatasync the kernel may have dropped the dirty pages.
        long start = System.nanoTime();
        fsync.force(writeChannel);
        long took = System.nanoTime() - start;
        syncs.incrementAndGet();
        writeOffset += runBytes;
        syncListener.synced(took, buffers.length / 2); // a header and a body per record
    }

    /** Told of every fdatasync of appended records: how long it took and how many records it covered. */
    public interface SyncListener {
        void synced(long nanos, int records);
    }

    /** Reports every append fdatasync to {@code listener} (the node's metrics); called on the commit thread. */
    public void onSync(SyncListener listener) {
        this.syncListener = java.util.Objects.requireNonNull(listener, "listener");
    }

    private static boolean isDiskFull(IOException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("No space left on device") || message.contains("Disk quota exceeded");
    }

    private void rollSegment() throws IOException {
        writeChannel.close();
        openSegment++;
        writeChannel = opener.open(segmentPath(openSegment), true);
        writeOffset = 0;
        // The new file's name must be durable before any record in it is acknowledged.
        fsyncDirectory(segmentsDir);
        LOG.info("chunk store started segment {}", openSegment);
    }

    private static void fail(List<PendingAppend> batch, IOException cause) {
        for (PendingAppend pending : batch) {
            pending.future().completeExceptionally(cause);
        }
    }

    // ---- compaction ----------------------------------------------------------------------------

    private void compactNow(CompletableFuture<CompactionReport> future) {
        ChunkStoreFailedException failed = failure;
        if (failed != null) {
            future.completeExceptionally(failed);
            return;
        }
        int segmentsCompacted = 0;
        long recordsCopied = 0;
        long bytesFreed = 0;
        try {
            for (int segment : listSegments()) {
                long size = Files.size(segmentPath(segment));
                if (segment >= openSegment || size == 0
                        || (double) liveOf(segment) / size >= options.compactionLiveRatio()) {
                    continue;
                }
                long before = totalSegmentBytes();
                recordsCopied += compactSegment(segment);
                bytesFreed += before - totalSegmentBytes();
                segmentsCompacted++;
            }
            future.complete(new CompactionReport(segmentsCompacted, recordsCopied, bytesFreed));
        } catch (IOException | RuntimeException e) {
            // The segments and the index are consistent after every step (that is what the steps are
            // for), but this process no longer knows which step it finished: restart to recover.
            ChunkStoreFailedException failedNow = new ChunkStoreFailedException(e);
            failure = failedNow;
            LOG.error("chunk store failed while compacting; refusing all appends until restart", e);
            future.completeExceptionally(failedNow);
        }
    }

    private long totalSegmentBytes() throws IOException {
        long total = 0;
        for (int segment : listSegments()) {
            total += Files.size(segmentPath(segment));
        }
        return total;
    }

    /** Copy, sync, switch, remove: a crash after any step leaves every live chunk readable. */
    private long compactSegment(int segment) throws IOException {
        long copied = 0;
        // Deletes wait: a chunk deleted between its copy and the index switch would come back.
        synchronized (deleteLock) {
            if (writeOffset > 0) {
                // The copies go into a fresh segment (rollSegment fsyncs its directory).
                rollSegment();
            }
            try (FileChannel channel = FileChannel.open(segmentPath(segment), StandardOpenOption.READ)) {
                List<Outgoing> copies = new ArrayList<>();
                List<ChunkIndex.Location> olds = new ArrayList<>();
                long[] batchBytes = {0};
                long[] copiedRecords = {0};
                SegmentScanner.Sink live = (header, at, stored) -> {
                    List<SegmentScanner.Entry> alive = new ArrayList<>();
                    for (SegmentScanner.Entry entry : SegmentScanner.entries(header, at, stored)) {
                        // Not alive: deleted, or superseded by a later record of the same chunk.
                        if (entry.location().equals(index.get(entry.id()))) {
                            alive.add(entry);
                        }
                    }
                    if (alive.isEmpty()) {
                        return;
                    }
                    for (Outgoing copy : copiesOf(header, stored, alive)) {
                        copies.add(copy);
                        batchBytes[0] += copy.recordLength();
                        copiedRecords[0]++;
                    }
                    alive.forEach(entry -> olds.add(entry.location()));
                    if (batchBytes[0] >= COMPACTION_BATCH_BYTES) {
                        switchBatch(segment, copies, olds);
                        batchBytes[0] = 0;
                    }
                };
                SegmentScanner.scan(channel, segment, 0, live, (offset, length) ->
                        LOG.error("segment {}: {} corrupt bytes at offset {} dropped by compaction; the chunks in"
                                + " them must be repaired from replicas", segment, length, offset));
                switchBatch(segment, copies, olds);
                copied = copiedRecords[0];
            }
            // The switched entries must survive a power loss before the only other copy goes.
            index.syncWal();
            compactionHook.reached(CompactionStep.INDEX_SWITCHED, segment);
        }
        FileChannel reader = readChannels.remove(segment);
        Files.delete(segmentPath(segment));
        fsyncDirectory(segmentsDir);
        closeQuietly(reader);
        liveRecordBytes.remove(segment);
        LOG.info("chunk store compacted segment {} into segment {}", segment, openSegment);
        compactionHook.reached(CompactionStep.OLD_SEGMENT_REMOVED, segment);
        return copied;
    }

    /**
     * The records that keep a record's live entries: the record itself when all its entries live
     * (copied byte for byte), else, for a pack some of whose members died, the live members packed
     * again (or alone, when one is left or packing them no longer pays), so that a dead member's
     * bytes are freed rather than copied on forever.
     */
    private List<Outgoing> copiesOf(SegmentRecord.Header header, ByteBuffer stored, List<SegmentScanner.Entry> alive) {
        if (!header.isPack()) {
            return List.of(Outgoing.of(new ChunkData(header.id(), ChunkCodec.fromCode(header.codecCode()),
                    header.rawLength(), stored)));
        }
        ChunkPack pack = SegmentRecord.pack(header, stored);
        if (alive.size() == header.members()) {
            List<Integer> slots = new ArrayList<>();
            alive.forEach(entry -> slots.add(entry.location().slot()));
            return List.of(Outgoing.of(pack, stored, slots));
        }
        byte[] raw = pack.decode(); // its CRC matched; a frame that does not decode fails compaction loudly
        List<ChunkData> members = new ArrayList<>(alive.size());
        alive.forEach(entry -> members.add(pack.member(entry.location().slot(), raw)));
        ChunkEncoder encoder = compactionEncoder();
        ChunkPack repacked = members.size() > 1 ? encoder.encodePack(members) : null;
        if (repacked != null) {
            List<Integer> slots = new ArrayList<>();
            for (int slot = 0; slot < members.size(); slot++) {
                slots.add(slot);
            }
            return List.of(Outgoing.of(repacked, SegmentRecord.packBody(repacked), slots));
        }
        List<Outgoing> singles = new ArrayList<>(members.size());
        for (ChunkData member : members) {
            singles.add(Outgoing.of(encoder.encode(member)));
        }
        return singles;
    }

    /** Used on the commit thread only, by compaction; opened on first use. */
    private ChunkEncoder compactionEncoder() {
        if (compactionEncoder == null) {
            compactionEncoder = new ChunkEncoder();
        }
        return compactionEncoder;
    }

    /**
     * Writes one batch of copies durably, then points the index at them (old entries unchanged).
     * {@code olds} holds the old location of every entry of {@code copies}, in order.
     */
    private void switchBatch(int segment, List<Outgoing> copies, List<ChunkIndex.Location> olds) throws IOException {
        if (copies.isEmpty()) {
            return;
        }
        List<ChunkIndex.Location> written = writeAndSyncRecords(copies);
        compactionHook.reached(CompactionStep.COPIED, segment);
        List<ChunkId> ids = new ArrayList<>(olds.size());
        List<ChunkIndex.Location> news = new ArrayList<>(olds.size());
        for (int r = 0; r < copies.size(); r++) {
            Outgoing copy = copies.get(r);
            for (int i = 0; i < copy.ids().size(); i++) {
                ids.add(copy.ids().get(i));
                news.add(copy.entryAt(written.get(r), i));
            }
        }
        // Covered by the fdatasync in writeAndSyncRecords; the index WAL is synced before the old file goes.
        index.put(ids, news, new ChunkIndex.Checkpoint(openSegment, writeOffset));
        for (int i = 0; i < news.size(); i++) {
            addLive(olds.get(i).segment(), -olds.get(i).liveRecordBytes());
            addLive(news.get(i).segment(), news.get(i).liveRecordBytes());
            // A repacked member's share of its new pack differs from its old one.
            liveBytes.addAndGet(news.get(i).storedLength() - olds.get(i).storedLength());
        }
        copies.clear();
        olds.clear();
    }

    // ---- recovery ------------------------------------------------------------------------------

    private RecoveryReport recover() throws IOException {
        List<Integer> segments = listSegments();
        ChunkIndex.Checkpoint checkpoint = index.checkpoint();
        boolean rebuilt = false;
        if (checkpoint == null || !segments.contains(checkpoint.segment())
                || checkpoint.offset() > Files.size(segmentPath(checkpoint.segment()))) {
            if (checkpoint != null) {
                LOG.warn("chunk index checkpoint {} does not match the segment files; rebuilding the index"
                        + " from every segment", checkpoint);
            }
            index.clear();
            checkpoint = null;
            rebuilt = !segments.isEmpty();
        }
        int scanned = 0;
        long indexed = 0;
        long torn = 0;
        long[] quarantine = new long[2];
        for (int i = 0; i < segments.size(); i++) {
            int segment = segments.get(i);
            if (checkpoint != null && segment < checkpoint.segment()) {
                continue;
            }
            long from = checkpoint != null && segment == checkpoint.segment() ? checkpoint.offset() : 0;
            boolean last = i == segments.size() - 1;
            scanned++;
            try (FileChannel channel = FileChannel.open(segmentPath(segment), StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                List<ChunkId> ids = new ArrayList<>();
                List<ChunkIndex.Location> locations = new ArrayList<>();
                SegmentScanner.Result result = SegmentScanner.scan(channel, segment, from,
                        (header, location, stored) -> {
                            for (SegmentScanner.Entry entry : SegmentScanner.entries(header, location, stored)) {
                                ids.add(entry.id());
                                locations.add(entry.location());
                            }
                            if (ids.size() >= RECOVERY_BATCH_RECORDS) {
                                index.put(ids, locations, new ChunkIndex.Checkpoint(segment,
                                        location.offset() + location.recordLength()));
                                ids.clear();
                                locations.clear();
                            }
                        },
                        (offset, length) -> {
                            LOG.error("segment {}: {} corrupt bytes at offset {} skipped; the chunks in them"
                                    + " must be repaired from replicas", segment, length, offset);
                            quarantine[0]++;
                            quarantine[1] += length;
                        });
                indexed += result.records();
                long size = channel.size();
                if (result.validEnd() < size) {
                    long bad = size - result.validEnd();
                    if (last) {
                        LOG.warn("segment {}: cutting off {} bytes of torn or corrupt tail at offset {}",
                                segment, bad, result.validEnd());
                        channel.truncate(result.validEnd());
                        channel.force(true);
                        torn += bad;
                    } else {
                        LOG.error("segment {}: {} corrupt bytes at its end (offset {}) skipped; the chunks in"
                                + " them must be repaired from replicas", segment, bad, result.validEnd());
                        quarantine[0]++;
                        quarantine[1] += bad;
                    }
                }
                index.put(ids, locations, new ChunkIndex.Checkpoint(segment, result.validEnd()));
            }
        }
        if (segments.isEmpty()) {
            openSegment = 1;
            writeChannel = opener.open(segmentPath(openSegment), true);
            fsyncDirectory(segmentsDir);
            writeOffset = 0;
        } else {
            openSegment = segments.get(segments.size() - 1);
            writeChannel = opener.open(segmentPath(openSegment), false);
            writeOffset = writeChannel.size();
            writeChannel.position(writeOffset);
        }
        RecoveryReport report = new RecoveryReport(scanned, indexed, torn, quarantine[0], quarantine[1], rebuilt);
        LOG.info("chunk store opened: {}", report);
        return report;
    }

    private List<Integer> listSegments() throws IOException {
        List<Integer> numbers = new ArrayList<>();
        try (Stream<Path> files = Files.list(segmentsDir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                int number = SegmentRecord.segmentNumber(file);
                if (number < 0) {
                    LOG.warn("ignoring {} in the segments directory: not a segment file", file.getFileName());
                } else {
                    numbers.add(number);
                }
            }
        }
        numbers.sort(null);
        return numbers;
    }

    Path segmentPath(int segment) {
        return segmentsDir.resolve(SegmentRecord.fileName(segment));
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    // ---- close -------------------------------------------------------------------------------

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
        resumeCommits();
        boolean interrupted = false;
        boolean queued = false;
        while (!queued) {
            try {
                queue.put(Close.INSTANCE);
                queued = true;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        while (committer.isAlive()) {
            try {
                committer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        readChannels.values().forEach(ChunkStore::closeQuietly);
        readChannels.clear();
        if (compactionEncoder != null) {
            compactionEncoder.close();
        }
        index.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("closing a segment file failed", e);
        }
    }
}
