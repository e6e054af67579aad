package dev.cairn.server.store;

import dev.cairn.engine.ChunkId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the index up to the segments when a store opens: re-indexes the records written after
 * the index's checkpoint (every segment when the checkpoint does not match the files), cuts a
 * torn tail off the last segment and skips corrupt regions in the others.
 */
final class Recovery {

    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);
    private static final int BATCH_RECORDS = 10_000;

    private final SegmentFiles files;
    private final ChunkIndex index;
    private int scanned;
    private long indexed;
    private long torn;
    private long quarantinedRegions;
    private long quarantinedBytes;

    private Recovery(SegmentFiles files, ChunkIndex index) {
        this.files = files;
        this.index = index;
    }

    static RecoveryReport recover(SegmentFiles files, ChunkIndex index) throws IOException {
        return new Recovery(files, index).run();
    }

    private RecoveryReport run() throws IOException {
        List<Integer> segments = files.list();
        ChunkIndex.Checkpoint checkpoint = index.checkpoint();
        boolean rebuilt = false;
        if (checkpoint == null || !segments.contains(checkpoint.segment())
                || checkpoint.offset() > files.size(checkpoint.segment())) {
            if (checkpoint != null) {
                LOG.warn("chunk index checkpoint {} does not match the segment files; rebuilding the index"
                        + " from every segment", checkpoint);
            }
            index.clear();
            checkpoint = null;
            rebuilt = !segments.isEmpty();
        }
        for (int i = 0; i < segments.size(); i++) {
            int segment = segments.get(i);
            if (checkpoint != null && segment < checkpoint.segment()) {
                continue;
            }
            long from = checkpoint != null && segment == checkpoint.segment() ? checkpoint.offset() : 0;
            scan(segment, from, i == segments.size() - 1);
        }
        RecoveryReport report = new RecoveryReport(scanned, indexed, torn, quarantinedRegions, quarantinedBytes, rebuilt);
        LOG.info("chunk store opened: {}", report);
        return report;
    }

    /** Indexes the valid records of {@code segment} from {@code from} on; only the last segment's tail is cut. */
    private void scan(int segment, long from, boolean last) throws IOException {
        scanned++;
        try (FileChannel channel = FileChannel.open(files.path(segment), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            List<ChunkId> ids = new ArrayList<>();
            List<ChunkIndex.Location> locations = new ArrayList<>();
            SegmentScanner.Result result = SegmentScanner.scan(channel, segment, from,
                    (header, location, stored) -> {
                        for (SegmentScanner.Entry entry : SegmentScanner.entries(header, location, stored)) {
                            ids.add(entry.id());
                            locations.add(entry.location());
                        }
                        if (ids.size() >= BATCH_RECORDS) {
                            index.put(ids, locations, new ChunkIndex.Checkpoint(segment,
                                    location.offset() + location.recordLength()));
                            ids.clear();
                            locations.clear();
                        }
                    },
                    (offset, length) -> {
                        LOG.error("segment {}: {} corrupt bytes at offset {} skipped; the chunks in them"
                                + " must be repaired from replicas", segment, length, offset);
                        quarantine(length);
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
                    quarantine(bad);
                }
            }
            index.put(ids, locations, new ChunkIndex.Checkpoint(segment, result.validEnd()));
        }
    }

    private void quarantine(long bytes) {
        quarantinedRegions++;
        quarantinedBytes += bytes;
    }
}
