package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the records of one segment file from an offset to its end, for recovery. A region that is
 * not a valid record is skipped up to the next valid record (found by its magic and confirmed by
 * its CRC); a region after which no valid record follows is the segment's invalid tail.
 */
final class SegmentScanner {

    private static final int SEARCH_BLOCK_BYTES = 1024 * 1024;

    /** Receives each valid record found: its header, where it starts, and its stored bytes. */
    interface Sink {
        void record(SegmentRecord.Header header, ChunkIndex.Location location, ByteBuffer stored) throws IOException;
    }

    /** One index entry a record yields: a chunk's own record yields one, a pack one per member. */
    record Entry(ChunkId id, ChunkIndex.Location location) {}

    /** The index entries of a valid record at {@code location} (the record's own place, slot 0). */
    static List<Entry> entries(SegmentRecord.Header header, ChunkIndex.Location location, ByteBuffer stored) {
        if (!header.isPack()) {
            return List.of(new Entry(header.id(), location));
        }
        ChunkPack pack = SegmentRecord.pack(header, stored);
        List<Entry> entries = new ArrayList<>(header.members());
        for (int slot = 0; slot < header.members(); slot++) {
            entries.add(new Entry(pack.members().get(slot).id(), new ChunkIndex.Location(location.segment(),
                    location.offset(), location.recordLength(), slot, header.members())));
        }
        return entries;
    }

    /** Receives each skipped region in the middle of a segment. */
    interface BadRegion {
        void skipped(long offset, long lengthInBytes);
    }

    /**
     * @param validEnd offset just past the last valid record (the segment's size when its tail is valid)
     * @param records valid records found (a pack is one record)
     */
    record Result(long validEnd, long records) {}

    private SegmentScanner() {}

    static Result scan(FileChannel channel, int segment, long from, Sink sink, BadRegion bad) throws IOException {
        long size = channel.size();
        long pos = from;
        long records = 0;
        while (pos < size) {
            Valid valid = validRecordAt(channel, pos, size, false);
            if (valid != null) {
                SegmentRecord.Header header = valid.header();
                sink.record(header, new ChunkIndex.Location(segment, pos, (int) header.recordLength()), valid.stored());
                records++;
                pos += header.recordLength();
                continue;
            }
            long next = nextValidRecord(channel, pos + 1, size);
            if (next < 0) {
                return new Result(pos, records);
            }
            bad.skipped(pos, next - pos);
            pos = next;
        }
        return new Result(pos, records);
    }

    /** A record whose CRC matched: its header and its stored bytes. */
    record Valid(SegmentRecord.Header header, ByteBuffer stored) {}

    /**
     * The record at {@code pos} when a complete record with a matching CRC is there (and, with
     * {@code verifyId}, whose raw bytes hash to its id, or for a pack to its members' ids).
     */
    static Valid validRecordAt(FileChannel channel, long pos, long size, boolean verifyId)
            throws IOException {
        if (size - pos < SegmentRecord.HEADER_BYTES) {
            return null;
        }
        ByteBuffer headerBytes = ByteBuffer.allocate(SegmentRecord.HEADER_BYTES);
        readFully(channel, headerBytes, pos);
        headerBytes.flip();
        SegmentRecord.Header header = SegmentRecord.parseHeader(headerBytes);
        if (header == null || size - pos < header.recordLength()) {
            return null;
        }
        ByteBuffer stored = ByteBuffer.allocate(header.storedLength());
        readFully(channel, stored, pos + SegmentRecord.HEADER_BYTES);
        stored.flip();
        if (!SegmentRecord.crcMatches(headerBytes, stored)) {
            return null;
        }
        if (header.isPack() && !tableIsValid(header, stored)) {
            return null;
        }
        if (verifyId && !hashMatches(header, stored)) {
            return null;
        }
        return new Valid(header, stored);
    }

    /** A pack whose member table no pack can have (raw lengths out of bounds or not adding up) is not a record. */
    private static boolean tableIsValid(SegmentRecord.Header header, ByteBuffer stored) {
        try {
            return SegmentRecord.pack(header, stored).rawLength() == header.rawLength();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean hashMatches(SegmentRecord.Header header, ByteBuffer stored) {
        if (header.isPack()) {
            return SegmentRecord.pack(header, stored).verify();
        }
        try {
            return new ChunkData(header.id(), ChunkCodec.fromCode(header.codecCode()), header.rawLength(), stored).verify();
        } catch (RuntimeException e) {
            // A codec ChunkData cannot decode yet: the CRC is all there is to go on.
            return true;
        }
    }

    private static long nextValidRecord(FileChannel channel, long from, long size) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(SEARCH_BLOCK_BYTES);
        long blockStart = from;
        while (blockStart + 4 <= size) {
            block.clear();
            block.limit((int) Math.min(SEARCH_BLOCK_BYTES, size - blockStart));
            readFully(channel, block, blockStart);
            block.flip();
            for (int i = 0; i + 4 <= block.limit(); i++) {
                // A search can land on a record embedded in another chunk's bytes (someone stored a
                // segment file); indexing that is harmless only if its bytes really hash to its id.
                if (block.getInt(i) == SegmentRecord.MAGIC && validRecordAt(channel, blockStart + i, size, true) != null) {
                    return blockStart + i;
                }
            }
            // Overlap by 3 bytes so a magic split across two blocks is still seen.
            blockStart += block.limit() - 3;
        }
        return -1;
    }

    /** Reads until {@code buffer} is full; EOFException when the file ends first. */
    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw new EOFException("segment ended at " + pos + " while reading " + buffer.remaining()
                        + " more bytes");
            }
            pos += n;
        }
    }
}
