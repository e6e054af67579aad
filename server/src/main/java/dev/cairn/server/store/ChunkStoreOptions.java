package dev.cairn.server.store;

import dev.cairn.config.Limits;

/**
 * Limits of one node's chunk store.
 *
 * @param maxSegmentBytes a segment is closed and a new one started before a record would take it
 *     past this size; bounds the work of a tail scan and the size of a future compaction unit
 * @param maxChunkBytes largest stored chunk accepted by {@link ChunkStore#append}; bounds the
 *     memory of one record
 * @param maxPendingAppends append calls waiting for the group-commit thread; beyond this an append
 *     fails at once (back pressure instead of unbounded memory)
 * @param compactionLiveRatio {@link ChunkStore#compact()} rewrites a sealed segment whose live record
 *     bytes are less than this fraction of its size; 0.5 by default: a rewrite then frees at least
 *     as many bytes as it copies
 */
public record ChunkStoreOptions(long maxSegmentBytes, int maxChunkBytes, int maxPendingAppends,
                                double compactionLiveRatio) {

    public static final long DEFAULT_MAX_SEGMENT_BYTES = 256L * 1024 * 1024;
    public static final int DEFAULT_MAX_PENDING_APPENDS = 4096;
    public static final double DEFAULT_COMPACTION_LIVE_RATIO = 0.5;

    public ChunkStoreOptions {
        if (maxChunkBytes < 1 || maxChunkBytes > SegmentRecord.MAX_STORED_BYTES) {
            throw new IllegalArgumentException("maxChunkBytes must be in 1.." + SegmentRecord.MAX_STORED_BYTES
                    + ", got " + maxChunkBytes);
        }
        if (maxSegmentBytes < SegmentRecord.HEADER_BYTES + (long) maxChunkBytes || maxSegmentBytes > (1L << 40)) {
            throw new IllegalArgumentException("maxSegmentBytes must hold at least one largest record ("
                    + (SegmentRecord.HEADER_BYTES + (long) maxChunkBytes) + " bytes) and be at most 1 TiB, got "
                    + maxSegmentBytes);
        }
        if (maxPendingAppends < 1) {
            throw new IllegalArgumentException("maxPendingAppends must be at least 1, got " + maxPendingAppends);
        }
        if (!(compactionLiveRatio >= 0 && compactionLiveRatio <= 1)) {
            throw new IllegalArgumentException("compactionLiveRatio must be in 0..1, got " + compactionLiveRatio);
        }
    }

    public static ChunkStoreOptions defaults() {
        return new ChunkStoreOptions(DEFAULT_MAX_SEGMENT_BYTES, Limits.DEFAULT_MAX_CHUNK_BYTES,
                DEFAULT_MAX_PENDING_APPENDS, DEFAULT_COMPACTION_LIVE_RATIO);
    }

    public ChunkStoreOptions withMaxSegmentBytes(long bytes) {
        return new ChunkStoreOptions(bytes, maxChunkBytes, maxPendingAppends, compactionLiveRatio);
    }

    public ChunkStoreOptions withMaxChunkBytes(int bytes) {
        return new ChunkStoreOptions(maxSegmentBytes, bytes, maxPendingAppends, compactionLiveRatio);
    }

    public ChunkStoreOptions withMaxPendingAppends(int count) {
        return new ChunkStoreOptions(maxSegmentBytes, maxChunkBytes, count, compactionLiveRatio);
    }

    public ChunkStoreOptions withCompactionLiveRatio(double ratio) {
        return new ChunkStoreOptions(maxSegmentBytes, maxChunkBytes, maxPendingAppends, ratio);
    }
}
