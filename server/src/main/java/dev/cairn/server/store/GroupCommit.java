package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.Clock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit thread, which alone writes segments: it takes every append queued meanwhile, writes
 * the new records with one gathering write, makes them durable with one fdatasync, indexes them,
 * and only then completes their futures. Compactions queue here too and run between batches.
 * After a disk error it refuses every append until the node restarts.
 */
final class GroupCommit {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

    /** Work for the commit thread. */
    private sealed interface Task permits PendingAppend, Compaction, Close {}

    private record PendingAppend(List<ChunkData> chunks, List<ChunkPack> packs, CompletableFuture<Void> future)
            implements Task {}

    private record Compaction(CompletableFuture<CompactionReport> future) implements Task {}

    private enum Close implements Task { INSTANCE }

    private final int maxPendingAppends;
    private final ChunkIndex index;
    private final SegmentWriter writer;
    private final LiveCounts live;
    private final Compactor compactor;
    private final Clock clock;
    private final ArrayBlockingQueue<Task> queue;
    private final Thread committer;
    private volatile ChunkStoreFailedException failure;
    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong indexWriteNanos = new AtomicLong();

    private final Object gate = new Object();
    private boolean paused;

    GroupCommit(int maxPendingAppends, ChunkIndex index, SegmentWriter writer, LiveCounts live, Compactor compactor,
                Clock clock) {
        this.maxPendingAppends = maxPendingAppends;
        this.index = index;
        this.writer = writer;
        this.live = live;
        this.compactor = compactor;
        this.clock = clock;
        // One more slot than appends allowed, so close() and compact() always find room.
        this.queue = new ArrayBlockingQueue<>(maxPendingAppends + 2);
        this.committer = new Thread(this::commitLoop, "cairn-chunk-store-commit");
        committer.setDaemon(true);
    }

    void start() {
        committer.start();
    }

    /** Why appends are refused, or null while they are taken. */
    ChunkStoreFailedException failure() {
        return failure;
    }

    long recordsWritten() {
        return recordsWritten.get();
    }

    long indexWriteNanos() {
        return indexWriteNanos.get();
    }

    /** Queues an append; false when {@code maxPendingAppends} appends already wait for the disk. */
    boolean offerAppend(List<ChunkData> chunks, List<ChunkPack> packs, CompletableFuture<Void> future) {
        return queue.size() < maxPendingAppends && queue.offer(new PendingAppend(chunks, packs, future));
    }

    boolean offerCompaction(CompletableFuture<CompactionReport> future) {
        return queue.offer(new Compaction(future));
    }

    /** Test seam: the commit thread stops before taking its next batch until {@link #resume()}. */
    void pause() {
        synchronized (gate) {
            paused = true;
        }
    }

    void resume() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    /**
     * Lets the appends already queued commit, then ends the thread (which closes the open segment).
     * No append may be offered after this starts. Returns whether the caller was interrupted meanwhile.
     */
    boolean closeAndJoin() {
        resume();
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
        return interrupted;
    }

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
                compact(compaction.future());
            }
            tasks.clear();
            batch.clear();
            compactions.clear();
        }
        writer.close();
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
            List<OutgoingRecord> fresh = newRecords(batch);
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
                    writer.segment(), writer.offset(), e);
            fail(batch, failed);
        }
    }

    /** The records the batch adds: chunks neither indexed nor repeated in the batch, packs with such members. */
    private List<OutgoingRecord> newRecords(List<PendingAppend> batch) throws IOException {
        List<OutgoingRecord> fresh = new ArrayList<>();
        Set<ChunkId> seen = new HashSet<>();
        for (PendingAppend pending : batch) {
            for (ChunkData chunk : pending.chunks()) {
                if (seen.add(chunk.id()) && index.get(chunk.id()) == null) {
                    fresh.add(OutgoingRecord.of(chunk));
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
                    fresh.add(OutgoingRecord.of(pack, SegmentRecord.packBody(pack), slots));
                }
            }
        }
        return fresh;
    }

    /** Writes the records, fdatasyncs them, then indexes them; only then may their futures complete. */
    private void writeDurably(List<OutgoingRecord> records) throws IOException {
        List<ChunkIndex.Location> written = writer.writeAndSync(records);
        List<ChunkId> ids = new ArrayList<>(records.size());
        List<ChunkIndex.Location> locations = new ArrayList<>(records.size());
        for (int r = 0; r < records.size(); r++) {
            OutgoingRecord record = records.get(r);
            for (int i = 0; i < record.ids().size(); i++) {
                ids.add(record.ids().get(i));
                locations.add(record.entryAt(written.get(r), i));
            }
        }
        // Every record above is now covered by an fdatasync that has returned (writeAndSync).
        // Only now may the index name them, and only after that may their futures complete.
        long start = clock.nanoTime();
        index.put(ids, locations, writer.checkpoint());
        indexWriteNanos.addAndGet(clock.nanoTime() - start);
        locations.forEach(live::added);
        recordsWritten.addAndGet(records.size());
    }

    private void compact(CompletableFuture<CompactionReport> future) {
        ChunkStoreFailedException failed = failure;
        if (failed != null) {
            future.completeExceptionally(failed);
            return;
        }
        try {
            future.complete(compactor.compactSealedSegments());
        } catch (IOException | RuntimeException e) {
            // The segments and the index are consistent after every step (that is what the steps are
            // for), but this process no longer knows which step it finished: restart to recover.
            ChunkStoreFailedException failedNow = new ChunkStoreFailedException(e);
            failure = failedNow;
            LOG.error("chunk store failed while compacting; refusing all appends until restart", e);
            future.completeExceptionally(failedNow);
        }
    }

    private static void fail(List<PendingAppend> batch, IOException cause) {
        for (PendingAppend pending : batch) {
            pending.future().completeExceptionally(cause);
        }
    }
}
