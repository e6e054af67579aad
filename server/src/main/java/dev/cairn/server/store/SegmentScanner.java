package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads the records of one segment file from an offset to its end, for recovery. A region that is
 * not a valid record is skipped up to the next valid record (found by its magic and confirmed by
 * its CRC); a region after which no valid record follows is the segment's invalid tail.
 */
final class SegmentScanner {

    private static final int SEARCH_BLOCK_BYTES = 1024 * 1024;

    /** Receives each valid record found. */
    interface Sink {
        void record(ChunkId id, ChunkIndex.Location location) throws IOException;
    }

    /** Receives each skipped region in the middle of a segment. */
    interface BadRegion {
        void skipped(long offset, long lengthInBytes);
    }

    /**
     * @param validEnd offset just past the last valid record (the segment's size when its tail is valid)
     * @param records valid records found
     */
    record Result(long validEnd, long records) {}

    private SegmentScanner() {}

    static Result scan(FileChannel channel, int segment, long from, Sink sink, BadRegion bad) throws IOException {
        long size = channel.size();
        long pos = from;
        long records = 0;
        while (pos < size) {
            SegmentRecord.Header header = validRecordAt(channel, pos, size, false);
            if (header != null) {
                sink.record(header.id(), new ChunkIndex.Location(segment, pos, (int) header.recordLength()));
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

    /**
     * The header of the record at {@code pos} when a complete record with a matching CRC is there
     * (and, with {@code verifyId}, whose raw bytes hash to its id).
     */
    static SegmentRecord.Header validRecordAt(FileChannel channel, long pos, long size, boolean verifyId)
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
        if (verifyId && !hashMatches(header, stored)) {
            return null;
        }
        return header;
    }

    private static boolean hashMatches(SegmentRecord.Header header, ByteBuffer stored) {
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
