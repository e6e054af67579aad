package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
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

    private static final int RECOVERY_BATCH_RECORDS = 10_000;

    private record PendingAppend(List<ChunkData> chunks, CompletableFuture<Void> future) {}

    private static final PendingAppend CLOSE = new PendingAppend(List.of(), new CompletableFuture<>());

    private final Path segmentsDir;
    private final ChunkStoreOptions options;
    private final ChunkIndex index;
    private final Fsync fsync;
    private final RecoveryReport recovery;

    private final ArrayBlockingQueue<PendingAppend> queue;
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
    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong indexWriteNanos = new AtomicLong();

    // Owned by the commit thread after the constructor.
    private int openSegment;
    private FileChannel writeChannel;
    private long writeOffset;

    private final Object gate = new Object();
    private boolean paused;

    private ChunkStore(Path segmentsDir, ChunkStoreOptions options, ChunkIndex index, Fsync fsync)
            throws IOException {
        this.segmentsDir = segmentsDir;
        this.options = options;
        this.index = index;
        this.fsync = fsync;
        this.queue = new ArrayBlockingQueue<>(options.maxPendingAppends());
        this.recovery = recover();
        long[] live = index.countLive();
        liveChunks.set(live[0]);
        liveBytes.set(live[1]);
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
        Path segments = dir.resolve("segments");
        if (!Files.isDirectory(segments)) {
            Files.createDirectories(segments);
            fsyncDirectory(dir);
        }
        ChunkIndex index = ChunkIndex.open(dir.resolve("index"));
        try {
            return new ChunkStore(segments, options, index, fsync);
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
        CompletableFuture<Void> future = new CompletableFuture<>();
        for (ChunkData chunk : chunks) {
            IOException refused = refusal(chunk);
            if (refused != null) {
                future.completeExceptionally(refused);
                return future;
            }
        }
        if (chunks.isEmpty()) {
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
            } else if (!queue.offer(new PendingAppend(List.copyOf(chunks), future))) {
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
        } catch (UnsupportedOperationException e) {
            return new IOException("cannot verify chunk " + chunk.id() + " with codec " + chunk.codec()
                    + ": " + e.getMessage() + "; nothing was written", e);
        }
        if (!matches) {
            return new ChunkCorruptException(chunk.id(), "chunk " + chunk.id()
                    + " refused: its bytes do not hash to its id; nothing of this append was written");
        }
        return null;
    }

    /** True when the chunk is in the index, which only ever names records that an fdatasync covered. */
    public boolean contains(ChunkId id) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return index.get(id) != null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * The chunk as stored (codec, raw length, bytes), CRC-checked; empty when absent. A CRC mismatch,
     * or a record that is not the one the index names, throws {@link ChunkCorruptException}.
     */
    public Optional<ChunkData> read(ChunkId id) throws IOException {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            ChunkIndex.Location location = index.get(id);
            if (location == null) {
                return Optional.empty();
            }
            ByteBuffer record = readRecord(location);
            return Optional.of(decode(id, location, record));
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
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            synchronized (deleteLock) {
                ChunkIndex.Location location = index.get(id);
                if (location == null) {
                    return false;
                }
                index.delete(id);
                liveChunks.decrementAndGet();
                liveBytes.addAndGet(-location.storedLength());
                return true;
            }
        } finally {
            lifecycle.readLock().unlock();
        }
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

    /** True after a write or fsync error: every append fails until the node is restarted. */
    public boolean isFailed() {
        return failure != null;
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
        List<PendingAppend> batch = new ArrayList<>();
        boolean closing = false;
        while (!closing) {
            try {
                PendingAppend first = queue.take();
                awaitGate();
                batch.add(first);
                queue.drainTo(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                batch.addAll(queue);
                closing = true;
            }
            // Nothing is queued after CLOSE: append refuses once closed is set, before CLOSE is put.
            closing |= batch.remove(CLOSE);
            commit(batch);
            batch.clear();
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
            List<ChunkData> fresh = new ArrayList<>();
            Set<ChunkId> seen = new HashSet<>();
            for (PendingAppend pending : batch) {
                for (ChunkData chunk : pending.chunks()) {
                    if (seen.add(chunk.id()) && index.get(chunk.id()) == null) {
                        fresh.add(chunk);
                    }
                }
            }
            if (!fresh.isEmpty()) {
                writeDurably(fresh);
            }
            for (PendingAppend pending : batch) {
                pending.future().complete(null);
            }
        } catch (IOException | RuntimeException e) {
            ChunkStoreFailedException failed = new ChunkStoreFailedException(e);
            failure = failed;
            LOG.error("chunk store failed in segment {} at offset {}; refusing all appends until restart",
                    openSegment, writeOffset, e);
            fail(batch, failed);
        }
    }

    /** Writes the records, fdatasyncs them, then indexes them; only then may their futures complete. */
    private void writeDurably(List<ChunkData> chunks) throws IOException {
        List<ByteBuffer> run = new ArrayList<>(2 * chunks.size());
        List<ChunkId> ids = new ArrayList<>(chunks.size());
        List<ChunkIndex.Location> locations = new ArrayList<>(chunks.size());
        long runBytes = 0;
        long payloadBytes = 0;
        for (ChunkData chunk : chunks) {
            long recordLength = SegmentRecord.HEADER_BYTES + (long) chunk.storedLength();
            if (writeOffset + runBytes > 0 && writeOffset + runBytes + recordLength > options.maxSegmentBytes()) {
                writeAndSync(run, runBytes);
                run.clear();
                runBytes = 0;
                rollSegment();
            }
            ByteBuffer stored = chunk.bytes().duplicate();
            run.add(SegmentRecord.header(chunk.id(), chunk.codec(), chunk.rawLength(), stored));
            run.add(stored);
            ids.add(chunk.id());
            locations.add(new ChunkIndex.Location(openSegment, writeOffset + runBytes, (int) recordLength));
            runBytes += recordLength;
            payloadBytes += chunk.storedLength();
        }
        writeAndSync(run, runBytes);
        // Every record above is now covered by an fdatasync that has returned (writeAndSync).
        // Only now may the index name them, and only after that may their futures complete.
        long start = System.nanoTime();
        index.put(ids, locations, new ChunkIndex.Checkpoint(openSegment, writeOffset));
        indexWriteNanos.addAndGet(System.nanoTime() - start);
        liveChunks.addAndGet(ids.size());
        liveBytes.addAndGet(payloadBytes);
        recordsWritten.addAndGet(ids.size());
    }

    private void writeAndSync(List<ByteBuffer> run, long runBytes) throws IOException {
        if (run.isEmpty()) {
            return;
        }
        ByteBuffer[] buffers = run.toArray(new ByteBuffer[0]);
        int first = 0;
        while (first < buffers.length) {
            writeChannel.write(buffers, first, buffers.length - first);
            while (first < buffers.length && !buffers[first].hasRemaining()) {
                first++;
            }
        }
        fsync.force(writeChannel);
        syncs.incrementAndGet();
        writeOffset += runBytes;
    }

    private void rollSegment() throws IOException {
        writeChannel.close();
        openSegment++;
        writeChannel = FileChannel.open(segmentPath(openSegment), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
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
                        (id, location) -> {
                            ids.add(id);
                            locations.add(location);
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
            writeChannel = FileChannel.open(segmentPath(openSegment), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
            fsyncDirectory(segmentsDir);
            writeOffset = 0;
        } else {
            openSegment = segments.get(segments.size() - 1);
            writeChannel = FileChannel.open(segmentPath(openSegment), StandardOpenOption.WRITE);
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
                queue.put(CLOSE);
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
