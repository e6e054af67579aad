package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The on-disk record of one chunk in a segment file (big-endian):
 *
 * <pre>
 *  0  magic          4 bytes  0xCA1F5E6D
 *  4  version        1 byte   1
 *  5  codec          1 byte   {@link ChunkCodec#code()}
 *  6  reserved       2 bytes  0
 *  8  chunk id      32 bytes  SHA-256 of the raw bytes
 * 40  raw length     4 bytes
 * 44  stored length  4 bytes  n
 * 48  crc32c         4 bytes  over bytes 0..47 and the n stored bytes
 * 52  stored bytes   n bytes
 * </pre>
 */
final class SegmentRecord {

    static final int MAGIC = 0xCA1F5E6D;
    static final byte VERSION = 1;
    static final int HEADER_BYTES = 52;
    static final int CRC_OFFSET = 48;
    /** Format bound on one record's payload; a header claiming more is not a record. */
    static final int MAX_STORED_BYTES = 64 * 1024 * 1024;

    private static final String SUFFIX = ".seg";

    private SegmentRecord() {}

    /** Header of a record for {@code id}; the buffer is flipped, ready to write. */
    static ByteBuffer header(ChunkId id, ChunkCodec codec, int rawLength, ByteBuffer stored) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        h.putInt(MAGIC).put(VERSION).put((byte) codec.code()).putShort((short) 0);
        id.write(h);
        h.putInt(rawLength).putInt(stored.remaining());
        h.putInt(CRC_OFFSET, crc(h.array(), stored));
        h.position(0).limit(HEADER_BYTES);
        return h;
    }

    static int crc(byte[] header, ByteBuffer stored) {
        CRC32C crc = new CRC32C();
        crc.update(header, 0, CRC_OFFSET);
        crc.update(stored.duplicate());
        return (int) crc.getValue();
    }

    /** The parsed fixed part of a record. */
    record Header(ChunkId id, int codecCode, int rawLength, int storedLength, int crc) {

        long recordLength() {
            return (long) HEADER_BYTES + storedLength;
        }
    }

    /**
     * Parses a header from 52 bytes at the buffer's position; null when these bytes cannot be the
     * start of a record (wrong magic or version, unknown codec, impossible lengths).
     */
    static Header parseHeader(ByteBuffer b) {
        ByteBuffer h = b.duplicate().order(ByteOrder.BIG_ENDIAN);
        if (h.remaining() < HEADER_BYTES) {
            return null;
        }
        int start = h.position();
        if (h.getInt(start) != MAGIC || h.get(start + 4) != VERSION || h.getShort(start + 6) != 0) {
            return null;
        }
        int codec = h.get(start + 5) & 0xff;
        if (codec != ChunkCodec.RAW.code() && codec != ChunkCodec.ZSTD.code()) {
            return null;
        }
        int rawLength = h.getInt(start + 40);
        int storedLength = h.getInt(start + 44);
        if (rawLength < 0 || storedLength < 0 || storedLength > MAX_STORED_BYTES
                || (codec == ChunkCodec.RAW.code() && rawLength != storedLength)) {
            return null;
        }
        h.position(start + 8);
        ChunkId id = ChunkId.read(h);
        return new Header(id, codec, rawLength, storedLength, h.getInt(start + CRC_OFFSET));
    }

    /** True when the CRC in {@code header} covers its 48 header bytes and {@code stored}. */
    static boolean crcMatches(ByteBuffer headerBytes, ByteBuffer stored) {
        byte[] h = new byte[HEADER_BYTES];
        headerBytes.duplicate().get(h);
        int expected = ByteBuffer.wrap(h).getInt(CRC_OFFSET);
        return crc(h, stored) == expected;
    }

    static String fileName(int segment) {
        return String.format("%08d%s", segment, SUFFIX);
    }

    /** The segment number of a file name, or -1 when it is not a segment file. */
    static int segmentNumber(Path file) {
        String name = file.getFileName().toString();
        if (name.length() != 8 + SUFFIX.length() || !name.endsWith(SUFFIX)) {
            return -1;
        }
        for (int i = 0; i < 8; i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return -1;
            }
        }
        return Integer.parseInt(name.substring(0, 8));
    }
}
