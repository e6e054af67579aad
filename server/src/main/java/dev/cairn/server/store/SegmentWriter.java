package dev.cairn.server.store;

import dev.cairn.engine.Clock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open segment: appends records at its end and makes them durable with fdatasync, rolling to
 * a new segment when one is full. Used by the commit thread only (appends and compaction).
 */
final class SegmentWriter {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentWriter.class);

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

    private final SegmentFiles files;
    private final long maxSegmentBytes;
    private final Fsync fsync;
    private final SegmentOpener opener;
    private final Clock clock;
    private final AtomicLong syncs = new AtomicLong();
    private volatile ChunkStore.SyncListener syncListener = (nanos, records) -> { };

    private int segment;
    private FileChannel channel;
    private long offset;

    private SegmentWriter(SegmentFiles files, long maxSegmentBytes, Fsync fsync, SegmentOpener opener, Clock clock) {
        this.files = files;
        this.maxSegmentBytes = maxSegmentBytes;
        this.fsync = fsync;
        this.opener = opener;
        this.clock = clock;
    }

    /** Opens the last segment for appending at its end, or creates segment 1 in an empty directory. */
    static SegmentWriter openLast(SegmentFiles files, long maxSegmentBytes, Fsync fsync, SegmentOpener opener,
                                  Clock clock) throws IOException {
        SegmentWriter writer = new SegmentWriter(files, maxSegmentBytes, fsync, opener, clock);
        List<Integer> segments = files.list();
        if (segments.isEmpty()) {
            writer.segment = 1;
            writer.channel = opener.open(files.path(writer.segment), true);
            files.fsyncDirectory();
            writer.offset = 0;
        } else {
            writer.segment = segments.get(segments.size() - 1);
            writer.channel = opener.open(files.path(writer.segment), false);
            writer.offset = writer.channel.size();
            writer.channel.position(writer.offset);
        }
        return writer;
    }

    int segment() {
        return segment;
    }

    long offset() {
        return offset;
    }

    /** Everything written so far: the checkpoint to store with the index entries of a synced batch. */
    ChunkIndex.Checkpoint checkpoint() {
        return new ChunkIndex.Checkpoint(segment, offset);
    }

    /** fdatasync calls made since open. */
    long syncCount() {
        return syncs.get();
    }

    void onSync(ChunkStore.SyncListener listener) {
        this.syncListener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Appends the records to the open segment (rolling as needed) and fdatasyncs them; returns where
     * each went. When it returns, every record is covered by an fdatasync that has returned.
     */
    List<ChunkIndex.Location> writeAndSync(List<OutgoingRecord> records) throws IOException {
        List<ByteBuffer> run = new ArrayList<>(2 * records.size());
        List<ChunkIndex.Location> locations = new ArrayList<>(records.size());
        long runBytes = 0;
        for (OutgoingRecord record : records) {
            long recordLength = record.recordLength();
            if (offset + runBytes > 0 && offset + runBytes + recordLength > maxSegmentBytes) {
                writeAndSync(run, runBytes);
                run.clear();
                runBytes = 0;
                roll();
            }
            run.add(record.header().duplicate());
            run.add(record.body().duplicate());
            locations.add(new ChunkIndex.Location(segment, offset + runBytes, (int) recordLength));
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
                channel.write(buffers, first, buffers.length - first);
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
            channel.truncate(offset);
            channel.position(offset);
            throw new DiskFullException("disk full: no room for " + runBytes + " bytes in segment "
                    + segment + " at offset " + offset + " (" + e.getMessage() + "); nothing of"
                    + " this append was acknowledged and everything acknowledged before is intact;"
                    + " free space on the data disk, then retry", e);
        }
        // No retry on failure: after a failed fdatasync the kernel may have dropped the dirty pages.
        long start = clock.nanoTime();
        fsync.force(channel);
        long took = clock.nanoTime() - start;
        syncs.incrementAndGet();
        offset += runBytes;
        syncListener.synced(took, buffers.length / 2); // a header and a body per record
    }

    private static boolean isDiskFull(IOException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("No space left on device") || message.contains("Disk quota exceeded");
    }

    /** Starts a new segment; the records written after it go there. */
    void roll() throws IOException {
        channel.close();
        segment++;
        channel = opener.open(files.path(segment), true);
        offset = 0;
        // The new file's name must be durable before any record in it is acknowledged.
        files.fsyncDirectory();
        LOG.info("chunk store started segment {}", segment);
    }

    void close() {
        SegmentFiles.closeQuietly(channel);
    }
}
