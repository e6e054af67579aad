package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The on-disk record of one chunk, or of one pack of chunks, in a segment file (big-endian):
 *
 * <pre>
 *  0  magic          4 bytes  0xCA1F5E6D
 *  4  version        1 byte   1 (one chunk) or 2 (a pack)
 *  5  codec          1 byte   {@link ChunkCodec#code()} (ZSTD for a pack)
 *  6  members        2 bytes  0 for a chunk; a pack's member count k (1..{@link ChunkPack#MAX_MEMBERS})
 *  8  chunk id      32 bytes  SHA-256 of the raw bytes (a pack: its first member's id)
 * 40  raw length     4 bytes  (a pack: its members' raw lengths added up)
 * 44  stored length  4 bytes  n
 * 48  crc32c         4 bytes  over bytes 0..47 and the n stored bytes
 * 52  stored bytes   n bytes  a chunk: its encoded bytes; a pack: k * (id 32 | raw length 4), then the frame
 * </pre>
 */
final class SegmentRecord {

    static final int MAGIC = 0xCA1F5E6D;
    static final byte VERSION = 1;
    static final byte PACK_VERSION = 2;
    /** Bytes of one entry of a pack's member table: id and raw length. */
    static final int MEMBER_BYTES = ChunkId.LENGTH_BYTES + 4;
    static final int HEADER_BYTES = 52;
    static final int CRC_OFFSET = 48;
    /** Format bound on one record's payload; a header claiming more is not a record. */
    static final int MAX_STORED_BYTES = 64 * 1024 * 1024;

    private static final String SUFFIX = ".seg";

    private SegmentRecord() {}

    /** Header of a record for {@code id}; the buffer is flipped, ready to write. */
    static ByteBuffer header(ChunkId id, ChunkCodec codec, int rawLength, ByteBuffer stored) {
        return header(VERSION, 0, id, codec, rawLength, stored);
    }

    /** The stored bytes of a pack's record: its member table, then its frame. */
    static ByteBuffer packBody(ChunkPack pack) {
        ByteBuffer body = ByteBuffer.allocate(pack.members().size() * MEMBER_BYTES + pack.storedLength());
        for (ChunkPack.Member m : pack.members()) {
            m.id().write(body);
            body.putInt(m.rawLength());
        }
        return body.put(pack.frame().duplicate()).flip();
    }

    /** Header of the record of {@code pack}, whose stored bytes are {@code body} ({@link #packBody}). */
    static ByteBuffer packHeader(ChunkPack pack, ByteBuffer body) {
        return header(PACK_VERSION, pack.members().size(), pack.members().get(0).id(), ChunkCodec.ZSTD,
                pack.rawLength(), body);
    }

    /** The pack a version-2 record holds: the member table parsed, the frame a view of {@code stored}. */
    static ChunkPack pack(Header header, ByteBuffer stored) {
        ByteBuffer table = stored.duplicate().order(ByteOrder.BIG_ENDIAN);
        List<ChunkPack.Member> members = new ArrayList<>(header.members());
        for (int i = 0; i < header.members(); i++) {
            ChunkId id = ChunkId.read(table);
            members.add(new ChunkPack.Member(id, table.getInt()));
        }
        int tableBytes = header.members() * MEMBER_BYTES;
        return new ChunkPack(members, stored.slice(stored.position() + tableBytes, stored.remaining() - tableBytes));
    }

    private static ByteBuffer header(byte version, int members, ChunkId id, ChunkCodec codec, int rawLength,
                                     ByteBuffer stored) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        h.putInt(MAGIC).put(version).put((byte) codec.code()).putShort((short) members);
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

    /** The parsed fixed part of a record; {@code members} is 0 for a chunk's record, k for a pack's. */
    record Header(ChunkId id, int codecCode, int rawLength, int storedLength, int crc, int members) {

        long recordLength() {
            return (long) HEADER_BYTES + storedLength;
        }

        boolean isPack() {
            return members > 0;
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
        if (h.getInt(start) != MAGIC) {
            return null;
        }
        byte version = h.get(start + 4);
        int members = h.getShort(start + 6) & 0xffff;
        int codec = h.get(start + 5) & 0xff;
        int rawLength = h.getInt(start + 40);
        int storedLength = h.getInt(start + 44);
        if (rawLength < 0 || storedLength < 0 || storedLength > MAX_STORED_BYTES) {
            return null;
        }
        if (version == VERSION) {
            if (members != 0 || (codec != ChunkCodec.RAW.code() && codec != ChunkCodec.ZSTD.code())
                    || (codec == ChunkCodec.RAW.code() && rawLength != storedLength)) {
                return null;
            }
        } else if (version == PACK_VERSION) {
            if (members < 1 || members > ChunkPack.MAX_MEMBERS || codec != ChunkCodec.ZSTD.code()
                    || rawLength > ChunkPack.MAX_RAW_BYTES || storedLength < members * MEMBER_BYTES) {
                return null;
            }
        } else {
            return null;
        }
        h.position(start + 8);
        ChunkId id = ChunkId.read(h);
        return new Header(id, codec, rawLength, storedLength, h.getInt(start + CRC_OFFSET), members);
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
