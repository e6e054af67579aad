package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a chunk's record through a shared read channel per segment (positional reads, so
 * thread-safe) and decodes it with {@link RecordDecoder}. The caller holds the store open.
 */
final class ChunkReads {

    private final SegmentFiles files;
    private final ChunkIndex index;
    private final Map<Integer, FileChannel> channels = new ConcurrentHashMap<>();

    ChunkReads(SegmentFiles files, ChunkIndex index) {
        this.files = files;
        this.index = index;
    }

    /** The chunk as stored, CRC-checked; empty when the index does not name it. */
    Optional<ChunkData> read(ChunkId id, ChunkStore.ReadCache cache) throws IOException {
        for (int attempt = 0; ; attempt++) {
            ChunkIndex.Location location = index.get(id);
            if (location == null) {
                return Optional.empty();
            }
            RecordDecoder.DecodedPack hit = location.inPack() && cache != null
                    ? cache.get(RecordDecoder.recordOf(location)) : null;
            if (hit != null) {
                return Optional.of(hit.member(id, location));
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
            return Optional.of(RecordDecoder.decode(id, location, record, cache));
        }
    }

    private ByteBuffer readRecord(ChunkIndex.Location location) throws IOException {
        for (int attempt = 0; ; attempt++) {
            FileChannel channel = channel(location.segment());
            ByteBuffer record = ByteBuffer.allocate(location.recordLength());
            try {
                SegmentScanner.readFully(channel, record, location.offset());
                return record.flip();
            } catch (ClosedChannelException e) {
                // An interrupted reader closes the shared channel for everyone: reopen it once.
                channels.remove(location.segment(), channel);
                if (attempt > 0) {
                    throw e;
                }
            }
        }
    }

    private FileChannel channel(int segment) throws IOException {
        FileChannel channel = channels.get(segment);
        if (channel != null) {
            return channel;
        }
        FileChannel opened = FileChannel.open(files.path(segment), StandardOpenOption.READ);
        FileChannel raced = channels.putIfAbsent(segment, opened);
        if (raced != null) {
            opened.close();
            return raced;
        }
        return opened;
    }

    /** Stops reading {@code segment}, whose file is about to go; returns its channel (or null) to close after. */
    FileChannel detach(int segment) {
        return channels.remove(segment);
    }

    void close() {
        channels.values().forEach(SegmentFiles::closeQuietly);
        channels.clear();
    }
}
