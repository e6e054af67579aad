package dev.cairn.server.gc;

import dev.cairn.engine.ChunkId;
import dev.cairn.engine.Clock;
import dev.cairn.protocol.GcMessages.SweepReport;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.AppendMarker;
import dev.cairn.server.store.ChunkStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.StampedLock;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's side of garbage collection (docs/gc.md): a persistent mark per chunk (chunk id →
 * epoch, in a small RocksDB under {@code dataDir/gc}), the node's marking epoch, and the sweep.
 *
 * <p>Every chunk this node writes (PUT) or confirms (HAS "present") is marked with the marking
 * epoch in the same request, one {@link WriteBatch} per request. A sweep tombstones chunks whose
 * mark is older than its epoch. A lock orders the two: a HAS holds it shared from its presence
 * check until its marks are written, a PUT from its marks until the append's fdatasync completes
 * (the store's write path, {@link ChunkStore#append(List, AppendMarker)}, calls {@link #mark} and
 * releases the hold), a sweep holds it exclusively while it re-reads the marks of a page of chunks
 * and tombstones the old ones, so a chunk is never confirmed to a client and swept on the
 * strength of a mark read before the confirmation.
 *
 * <p>Whether to arm or sweep at all is not decided here but by the catalog ({@link EpochGuard},
 * before a request reaches this class); this class sweeps an epoch at most once after arming it.
 *
 * <p>Marks are written without fsync. A node sweeps epoch E only if it was armed for E in this
 * process's lifetime: after any restart its marks may have lost their last writes, so it skips
 * the sweep of the epoch in progress (docs/gc.md, step 5).
 */
public final class GcNode implements AppendMarker, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GcNode.class);
    private static final byte[] EPOCH_KEY = "marking-epoch".getBytes(StandardCharsets.US_ASCII);
    /** Chunks a sweep examines per exclusive hold of the lock: short, so puts wait little. */
    static final int SWEEP_PAGE = 1024;

    static {
        RocksDB.loadLibrary();
    }

    private final String nodeId;
    private final ChunkStore store;
    private final NodeMetrics metrics;
    private final Clock clock;
    private final Options options;
    private final RocksDB db;
    private final WriteOptions noSync = new WriteOptions().setSync(false);
    private final WriteOptions sync = new WriteOptions().setSync(true);
    private final StampedLock lock = new StampedLock();
    private volatile long markingEpoch;
    /** The epoch armed since this process started, or 0: only that epoch's marks are complete here. */
    private volatile long armedThisRun;
    /** The epoch swept since it was armed, or 0: an epoch's sweep runs once (docs/gc.md, "Who decides"). */
    private final AtomicLong sweptThisRun = new AtomicLong();

    private GcNode(String nodeId, ChunkStore store, NodeMetrics metrics, Clock clock, Options options, RocksDB db,
                   long markingEpoch) {
        this.metrics = metrics;
        this.clock = clock;
        this.nodeId = nodeId;
        this.store = store;
        this.options = options;
        this.db = db;
        this.markingEpoch = markingEpoch;
    }

    public static GcNode open(String nodeId, Path dir, ChunkStore store) throws IOException {
        return open(nodeId, dir, store, new NodeMetrics());
    }

    /** Opens the marks in {@code dir}; marks and sweeps are counted in {@code metrics}. */
    public static GcNode open(String nodeId, Path dir, ChunkStore store, NodeMetrics metrics) throws IOException {
        return open(nodeId, dir, store, metrics, Clock.SYSTEM);
    }

    /** {@link #open(String, Path, ChunkStore, NodeMetrics)}, timing sweeps on {@code clock}. */
    public static GcNode open(String nodeId, Path dir, ChunkStore store, NodeMetrics metrics, Clock clock)
            throws IOException {
        Files.createDirectories(dir);
        Options options = new Options().setCreateIfMissing(true);
        try {
            RocksDB db = RocksDB.open(options, dir.toString());
            byte[] e = db.get(EPOCH_KEY);
            return new GcNode(nodeId, store, metrics, clock, options, db, e == null ? 0 : ByteBuffer.wrap(e).getLong());
        } catch (RocksDBException e) {
            options.close();
            throw new IOException("cannot open the GC marks in " + dir + ": " + e.getMessage(), e);
        }
    }

    public long markingEpoch() {
        return markingEpoch;
    }

    /** Persists (fsync) "marking epoch = E" before returning, as GC_ARM requires. Refuses going back. */
    public void arm(long epoch) throws IOException {
        long stamp = lock.writeLock();
        try {
            if (epoch < markingEpoch) {
                throw new IllegalArgumentException("node " + nodeId + " already marks with GC epoch " + markingEpoch
                        + ", later than " + epoch + "; another coordinator ran a newer epoch");
            }
            db.put(sync, EPOCH_KEY, ByteBuffer.allocate(8).putLong(epoch).array());
            markingEpoch = epoch;
            armedThisRun = epoch;
        } catch (RocksDBException e) {
            throw new IOException("cannot persist GC epoch " + epoch + ": " + e.getMessage(), e);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /**
     * HAS: per id, the stored length of the durable copy or -1 (ChunkMessages.ABSENT); the present ones
     * are marked with the marking epoch before the answer.
     */
    public int[] has(List<ChunkId> ids) throws IOException {
        long stamp = lock.readLock();
        try {
            int[] storedLengths = new int[ids.size()];
            List<ChunkId> toMark = new ArrayList<>();
            for (int i = 0; i < storedLengths.length; i++) {
                storedLengths[i] = store.storedLength(ids.get(i));
                if (storedLengths[i] >= 0) {
                    toMark.add(ids.get(i));
                }
            }
            writeMarks(toMark, markingEpoch);
            return storedLengths;
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /**
     * PUT: marks the chunks with the marking epoch, for {@link ChunkStore#append(List, AppendMarker)};
     * the shared lock is held from the marks until the store releases the hold, after the append's
     * fdatasync completed, so no sweep page can interleave between mark and append.
     */
    @Override
    public Hold mark(List<ChunkId> ids) throws IOException {
        long stamp = lock.readLock();
        try {
            writeMarks(ids, markingEpoch);
        } catch (IOException | RuntimeException e) {
            lock.unlockRead(stamp);
            throw e;
        }
        return () -> lock.unlockRead(stamp);
    }

    /** GC_MARK: the coordinator's live ids for epoch E; only chunks this node holds are marked. */
    public int markLive(long epoch, List<ChunkId> ids) throws IOException {
        long stamp = lock.readLock();
        try {
            if (epoch != markingEpoch) {
                throw new IllegalStateException("node " + nodeId + " marks with GC epoch " + markingEpoch + ", not "
                        + epoch + "; the epoch was superseded, run gc again");
            }
            List<ChunkId> held = new ArrayList<>();
            for (ChunkId id : ids) {
                if (store.contains(id)) {
                    held.add(id);
                }
            }
            writeMarks(held, epoch);
            metrics.gcMarked(held.size());
            return held.size();
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** GC_SWEEP: tombstones every chunk whose mark is older than {@code epoch}, then starts a compaction. */
    public SweepReport sweep(long epoch) throws IOException {
        if (epoch != markingEpoch || armedThisRun != epoch) {
            throw new IllegalStateException("node " + nodeId + " skips the sweep of GC epoch " + epoch + ": "
                    + (epoch != markingEpoch ? "it marks with epoch " + markingEpoch
                    : "it restarted since it was armed, so its marks may be incomplete"));
        }
        if (sweptThisRun.getAndSet(epoch) == epoch) {
            String why = "node " + nodeId + " refuses a second sweep of GC epoch " + epoch
                    + ": the catalog cleared the epoch for one sweep, which has run; run gc again for a new epoch";
            LOG.warn("{}", why);
            throw new IllegalStateException(why);
        }
        long start = clock.nanoTime();
        SweepTally tally = new SweepTally();
        ChunkId after = null;
        while (true) {
            List<ChunkId> page = store.idsAfter(after, SWEEP_PAGE);
            if (page.isEmpty()) {
                break;
            }
            after = page.get(page.size() - 1);
            sweepPage(page, epoch, tally);
        }
        if (tally.freedChunks > 0) {
            store.compact().whenComplete((r, e) -> {
                if (e != null) {
                    LOG.warn("compaction after GC epoch {} failed: {}", epoch, e.toString());
                }
            });
        }
        long ms = (clock.nanoTime() - start) / 1_000_000;
        LOG.info("GC epoch {}: swept {} chunks ({} bytes), kept {}, in {} ms", epoch, tally.freedChunks,
                tally.freedBytes, tally.kept, ms);
        return new SweepReport(nodeId, tally.freedChunks, tally.freedBytes, tally.kept, ms);
    }

    /** What one sweep freed and kept so far. */
    private static final class SweepTally {
        long freedChunks;
        long freedBytes;
        long kept;
    }

    /**
     * Holding the lock exclusively, so no HAS or PUT is between its marks and its answer: re-reads
     * the page's marks and tombstones the chunks marked before {@code epoch}, forgetting their marks.
     */
    private void sweepPage(List<ChunkId> page, long epoch, SweepTally tally) throws IOException {
        long freedBefore = tally.freedChunks;
        long freedBytesBefore = tally.freedBytes;
        long stamp = lock.writeLock();
        try (WriteBatch forget = new WriteBatch()) {
            List<byte[]> keys = new ArrayList<>(page.size());
            page.forEach(id -> keys.add(id.toBytes()));
            List<byte[]> marks = db.multiGetAsList(keys);
            for (int i = 0; i < page.size(); i++) {
                byte[] m = marks.get(i);
                long mark = m == null ? 0 : ByteBuffer.wrap(m).getLong();
                if (mark >= epoch) {
                    tally.kept++;
                    continue;
                }
                long bytes = store.tombstone(page.get(i));
                if (bytes >= 0) {
                    tally.freedChunks++;
                    tally.freedBytes += bytes;
                }
                if (m != null) {
                    forget.delete(keys.get(i));
                }
            }
            db.write(noSync, forget);
            metrics.gcSwept(tally.freedChunks - freedBefore, tally.freedBytes - freedBytesBefore);
        } catch (RocksDBException e) {
            throw new IOException("GC sweep failed reading marks: " + e.getMessage(), e);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** One batch for the whole request; no fsync (see the class comment). */
    private void writeMarks(List<ChunkId> ids, long epoch) throws IOException {
        if (ids.isEmpty() || epoch == 0) {
            return; // before the first arm, no sweep can depend on a mark
        }
        byte[] value = ByteBuffer.allocate(8).putLong(epoch).array();
        try (WriteBatch batch = new WriteBatch()) {
            for (ChunkId id : ids) {
                batch.put(id.toBytes(), value);
            }
            db.write(noSync, batch);
        } catch (RocksDBException e) {
            throw new IOException("cannot write GC marks: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        long stamp = lock.writeLock();
        try {
            db.close();
            options.close();
            noSync.close();
            sync.close();
        } finally {
            lock.unlockWrite(stamp);
        }
    }
}
