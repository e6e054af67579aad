package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rewrites sealed segments that are mostly dead: copies their live records into the open segment,
 * switches the index to the copies, then deletes the old files, in steps after each of which a
 * crash is harmless. Runs on the commit thread only, so it is the only writer meanwhile.
 */
final class Compactor {

    private static final Logger LOG = LoggerFactory.getLogger(Compactor.class);
    /** Bytes of live records copied per write + fdatasync + index switch. */
    private static final long BATCH_BYTES = 16L * 1024 * 1024;

    /** The steps of compacting one segment, in order; after each one a crash must be harmless. */
    enum Step {
        /** Live records copied into the open segment and fdatasync'd (the old ones still indexed). */
        COPIED,
        /** Index entries switched to the copies and the index WAL synced. */
        INDEX_SWITCHED,
        /** Old segment file deleted and its directory fsync'd. */
        OLD_SEGMENT_REMOVED
    }

    /** Called after each compaction step; a test seam that throws to simulate a crash there. */
    interface Hook {
        void reached(Step step, int segment) throws IOException;
    }

    static final Hook NO_HOOK = (step, segment) -> { };

    private final SegmentFiles files;
    private final ChunkIndex index;
    private final SegmentWriter writer;
    private final LiveCounts live;
    private final ChunkReads reads;
    private final Object deleteLock;
    private final double liveRatio;
    private final Hook hook;
    private ChunkEncoder encoder;

    /** {@code deleteLock} is the lock deletes hold: a segment being compacted keeps them out. */
    Compactor(SegmentFiles files, ChunkIndex index, SegmentWriter writer, LiveCounts live, ChunkReads reads,
              Object deleteLock, double liveRatio, Hook hook) {
        this.files = files;
        this.index = index;
        this.writer = writer;
        this.live = live;
        this.reads = reads;
        this.deleteLock = deleteLock;
        this.liveRatio = liveRatio;
        this.hook = hook;
    }

    /**
     * Compacts every sealed segment whose live ratio is under the threshold. An exception leaves
     * the segments and the index consistent (that is what the steps are for), but the caller no
     * longer knows which step finished.
     */
    CompactionReport compactSealedSegments() throws IOException {
        int segmentsCompacted = 0;
        long recordsCopied = 0;
        long bytesFreed = 0;
        for (int segment : files.list()) {
            long size = files.size(segment);
            if (segment >= writer.segment() || size == 0 || (double) live.recordBytesIn(segment) / size >= liveRatio) {
                continue;
            }
            long before = files.totalBytes();
            recordsCopied += compactSegment(segment);
            bytesFreed += before - files.totalBytes();
            segmentsCompacted++;
        }
        return new CompactionReport(segmentsCompacted, recordsCopied, bytesFreed);
    }

    /** Live ratio of each segment file (live record bytes / file size). */
    Map<Integer, Double> liveRatios() throws IOException {
        Map<Integer, Double> ratios = new TreeMap<>();
        for (int segment : files.list()) {
            long size = files.size(segment);
            ratios.put(segment, size == 0 ? 1.0 : (double) live.recordBytesIn(segment) / size);
        }
        return ratios;
    }

    /** Copy, sync, switch, remove: a crash after any step leaves every live chunk readable. */
    private long compactSegment(int segment) throws IOException {
        long copied;
        // Deletes wait: a chunk deleted between its copy and the index switch would come back.
        synchronized (deleteLock) {
            if (writer.offset() > 0) {
                // The copies go into a fresh segment (roll fsyncs its directory).
                writer.roll();
            }
            copied = copyLiveRecords(segment);
            // The switched entries must survive a power loss before the only other copy goes.
            index.syncWal();
            hook.reached(Step.INDEX_SWITCHED, segment);
        }
        FileChannel reader = reads.detach(segment);
        Files.delete(files.path(segment));
        files.fsyncDirectory();
        SegmentFiles.closeQuietly(reader);
        live.forget(segment);
        LOG.info("chunk store compacted segment {} into segment {}", segment, writer.segment());
        hook.reached(Step.OLD_SEGMENT_REMOVED, segment);
        return copied;
    }

    /** Copies the segment's live records in batches, each synced and switched; returns the records copied. */
    private long copyLiveRecords(int segment) throws IOException {
        try (FileChannel channel = FileChannel.open(files.path(segment), StandardOpenOption.READ)) {
            CopyBatch batch = new CopyBatch(segment);
            SegmentScanner.scan(channel, segment, 0, batch::add, (offset, length) ->
                    LOG.error("segment {}: {} corrupt bytes at offset {} dropped by compaction; the chunks in"
                            + " them must be repaired from replicas", segment, length, offset));
            batch.switchToCopies();
            return batch.copiedRecords;
        }
    }

    /** The copies of one segment not switched yet, and the old location of each of their entries. */
    private final class CopyBatch {
        private final int segment;
        private final List<OutgoingRecord> copies = new ArrayList<>();
        private final List<ChunkIndex.Location> olds = new ArrayList<>();
        private long bytes;
        private long copiedRecords;

        CopyBatch(int segment) {
            this.segment = segment;
        }

        void add(SegmentRecord.Header header, ChunkIndex.Location at, ByteBuffer stored) throws IOException {
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
            for (OutgoingRecord copy : copiesOf(header, stored, alive)) {
                copies.add(copy);
                bytes += copy.recordLength();
                copiedRecords++;
            }
            alive.forEach(entry -> olds.add(entry.location()));
            if (bytes >= BATCH_BYTES) {
                switchToCopies();
                bytes = 0;
            }
        }

        /** Writes the copies durably, then points the index at them (old entries unchanged). */
        void switchToCopies() throws IOException {
            if (copies.isEmpty()) {
                return;
            }
            List<ChunkIndex.Location> written = writer.writeAndSync(copies);
            hook.reached(Step.COPIED, segment);
            List<ChunkId> ids = new ArrayList<>(olds.size());
            List<ChunkIndex.Location> news = new ArrayList<>(olds.size());
            for (int r = 0; r < copies.size(); r++) {
                OutgoingRecord copy = copies.get(r);
                for (int i = 0; i < copy.ids().size(); i++) {
                    ids.add(copy.ids().get(i));
                    news.add(copy.entryAt(written.get(r), i));
                }
            }
            // Covered by the fdatasync in writeAndSync; the index WAL is synced before the old file goes.
            index.put(ids, news, writer.checkpoint());
            for (int i = 0; i < news.size(); i++) {
                live.moved(olds.get(i), news.get(i));
            }
            copies.clear();
            olds.clear();
        }
    }

    /**
     * The records that keep a record's live entries: the record itself when all its entries live
     * (copied byte for byte), else, for a pack some of whose members died, the live members packed
     * again (or alone, when one is left or packing them no longer pays), so that a dead member's
     * bytes are freed rather than copied on forever.
     */
    private List<OutgoingRecord> copiesOf(SegmentRecord.Header header, ByteBuffer stored,
                                          List<SegmentScanner.Entry> alive) {
        if (!header.isPack()) {
            return List.of(OutgoingRecord.of(new ChunkData(header.id(), ChunkCodec.fromCode(header.codecCode()),
                    header.rawLength(), stored)));
        }
        ChunkPack pack = SegmentRecord.pack(header, stored);
        if (alive.size() == header.members()) {
            List<Integer> slots = new ArrayList<>();
            alive.forEach(entry -> slots.add(entry.location().slot()));
            return List.of(OutgoingRecord.of(pack, stored, slots));
        }
        byte[] raw = pack.decode(); // its CRC matched; a frame that does not decode fails compaction loudly
        List<ChunkData> members = new ArrayList<>(alive.size());
        alive.forEach(entry -> members.add(pack.member(entry.location().slot(), raw)));
        ChunkEncoder encoder = encoder();
        ChunkPack repacked = members.size() > 1 ? encoder.encodePack(members) : null;
        if (repacked != null) {
            List<Integer> slots = new ArrayList<>();
            for (int slot = 0; slot < members.size(); slot++) {
                slots.add(slot);
            }
            return List.of(OutgoingRecord.of(repacked, SegmentRecord.packBody(repacked), slots));
        }
        List<OutgoingRecord> singles = new ArrayList<>(members.size());
        for (ChunkData member : members) {
            singles.add(OutgoingRecord.of(encoder.encode(member)));
        }
        return singles;
    }

    /** Opened on first use. */
    private ChunkEncoder encoder() {
        if (encoder == null) {
            encoder = new ChunkEncoder();
        }
        return encoder;
    }

    /** After the commit thread has ended. */
    void close() {
        if (encoder != null) {
            encoder.close();
        }
    }
}
