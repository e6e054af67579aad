package dev.cairn.server.store;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the index names as live: chunks, their stored bytes, and the record bytes they keep alive
 * in each segment (the compaction input). Counted from the index at open, then kept current by
 * appends, deletes and compaction.
 */
final class LiveCounts {

    private final AtomicLong chunks = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final Map<Integer, AtomicLong> recordBytes = new ConcurrentHashMap<>();

    /** A chunk the index now names at {@code location}. */
    void added(ChunkIndex.Location location) {
        addRecordBytes(location.segment(), location.liveRecordBytes());
        bytes.addAndGet(location.storedLength());
        chunks.incrementAndGet();
    }

    /** A chunk the index no longer names. */
    void removed(ChunkIndex.Location location) {
        addRecordBytes(location.segment(), -location.liveRecordBytes());
        chunks.decrementAndGet();
        bytes.addAndGet(-location.storedLength());
    }

    /** A chunk compaction moved; a repacked member's share of its new pack differs from its old one. */
    void moved(ChunkIndex.Location from, ChunkIndex.Location to) {
        addRecordBytes(from.segment(), -from.liveRecordBytes());
        addRecordBytes(to.segment(), to.liveRecordBytes());
        bytes.addAndGet(to.storedLength() - from.storedLength());
    }

    /** A segment file that is gone. */
    void forget(int segment) {
        recordBytes.remove(segment);
    }

    long chunks() {
        return chunks.get();
    }

    long bytes() {
        return bytes.get();
    }

    long recordBytesIn(int segment) {
        AtomicLong live = recordBytes.get(segment);
        return live == null ? 0 : live.get();
    }

    private void addRecordBytes(int segment, long delta) {
        recordBytes.computeIfAbsent(segment, s -> new AtomicLong()).addAndGet(delta);
    }
}
