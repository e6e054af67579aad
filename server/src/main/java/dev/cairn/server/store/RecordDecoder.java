package dev.cairn.server.store;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.nio.ByteBuffer;

/**
 * Turns the bytes of the record the index names for a chunk into that chunk, for a chunk's own
 * record and for a member of a pack alike: the header must name what the index names and the CRC
 * must match, else {@link ChunkCorruptException} naming the chunk (the caller reads a replica).
 */
final class RecordDecoder {

    /** A pack whose CRC matched and whose frame decoded to {@code raw}, its members back to back. */
    record DecodedPack(ChunkPack pack, byte[] raw) {

        /** Member {@code location.slot()}, checked to be the chunk asked for. */
        ChunkData member(ChunkId id, ChunkIndex.Location location) throws ChunkCorruptException {
            if (!pack.members().get(location.slot()).id().equals(id)) {
                throw new ChunkCorruptException(id, "chunk " + id + ": slot " + location.slot() + " of the pack in segment "
                        + location.segment() + " at offset " + location.offset() + " holds another chunk; read it from a replica");
            }
            return pack.member(location.slot(), raw);
        }
    }

    private RecordDecoder() {}

    /**
     * The chunk {@code id} out of {@code record}, read at {@code location}; a member of a pack comes
     * back RAW, decoded out of its pack, and the decoded pack is left in {@code cache} (may be null).
     */
    static ChunkData decode(ChunkId id, ChunkIndex.Location location, ByteBuffer record, ChunkStore.ReadCache cache)
            throws ChunkCorruptException {
        SegmentRecord.Header header = SegmentRecord.parseHeader(record);
        String where = "segment " + location.segment() + " at offset " + location.offset();
        boolean inPack = location.inPack();
        if (header == null || header.recordLength() != location.recordLength() || header.members() != location.members()
                || (!inPack && !header.id().equals(id))) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the record in " + where
                    + (inPack ? " is not the pack the index names" : " is not this chunk's record")
                    + " (damaged header); read it from a replica");
        }
        ByteBuffer stored = record.slice(SegmentRecord.HEADER_BYTES, header.storedLength());
        if (!SegmentRecord.crcMatches(record, stored)) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the " + (inPack ? "pack" : "record") + " in "
                    + where + " fails its CRC32C; read it from a replica");
        }
        if (!inPack) {
            return new ChunkData(id, ChunkCodec.fromCode(header.codecCode()), header.rawLength(), stored);
        }
        DecodedPack pack = decodePack(id, where, header, stored);
        if (cache != null) {
            cache.put(recordOf(location), pack);
        }
        return pack.member(id, location);
    }

    /** The location of the whole record a pack member lives in: the key of a decoded pack. */
    static ChunkIndex.Location recordOf(ChunkIndex.Location member) {
        return new ChunkIndex.Location(member.segment(), member.offset(), member.recordLength());
    }

    private static DecodedPack decodePack(ChunkId id, String where, SegmentRecord.Header header, ByteBuffer stored)
            throws ChunkCorruptException {
        ChunkPack pack;
        try {
            pack = SegmentRecord.pack(header, stored);
        } catch (IllegalArgumentException e) {
            throw new ChunkCorruptException(id, "chunk " + id + ": the pack in " + where + " has an impossible"
                    + " member table (" + e.getMessage() + "); read it from a replica");
        }
        try {
            return new DecodedPack(pack, pack.decode());
        } catch (ChunkData.CorruptChunkException e) {
            throw new ChunkCorruptException(id, "chunk " + id + ": its pack in " + where
                    + " does not decode (" + e.getMessage() + "); read it from a replica");
        }
    }
}
