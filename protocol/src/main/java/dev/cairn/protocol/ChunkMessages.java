package dev.cairn.protocol;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The headers of the chunk frames (HAS_CHUNKS, PUT_CHUNKS, PUT_PACKS, GET_CHUNKS) and their answers.
 * Chunk bytes never go into a header: they travel as the frame's payload, in the order the header
 * lists them.
 */
public final class ChunkMessages {

    private ChunkMessages() {}

    /** HAS_CHUNKS and GET_CHUNKS requests: a list of chunk ids. */
    public static ByteBuffer encodeIds(List<ChunkId> ids) {
        WireWriter w = new WireWriter(4 + ids.size() * ChunkId.LENGTH_BYTES).i32(ids.size());
        ids.forEach(w::id);
        return w.toBuffer();
    }

    public static List<ChunkId> decodeIds(ByteBuffer header) {
        WireReader r = new WireReader(header);
        int count = r.count("chunk ids", ChunkId.LENGTH_BYTES);
        List<ChunkId> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(r.id("chunk id"));
        }
        r.end("chunk id list");
        return ids;
    }

    /** In a HAS_CHUNKS response: the node holds no durable copy of the chunk. */
    public static final int ABSENT = -1;

    /**
     * HAS_CHUNKS response: per asked id, the encoded length of the node's durable copy, or
     * {@link #ABSENT}. The length lets a client that skips a chunk still account for what the
     * image occupies without encoding the chunk itself.
     */
    public static ByteBuffer encodePresence(int[] storedLengths) {
        WireWriter w = new WireWriter(4 + 4 * storedLengths.length).i32(storedLengths.length);
        for (int length : storedLengths) {
            w.i32(length);
        }
        return w.toBuffer();
    }

    public static int[] decodePresence(ByteBuffer header) {
        WireReader r = new WireReader(header);
        int count = r.count("presence entries", 4);
        int[] storedLengths = new int[count];
        for (int i = 0; i < count; i++) {
            int length = r.i32("stored length");
            if (length < ABSENT) {
                throw new ProtocolException("presence entry " + i + " has stored length " + length);
            }
            storedLengths[i] = length;
        }
        r.end("presence list");
        return storedLengths;
    }

    /** Status of one chunk in a GET_CHUNKS response. */
    public enum ChunkStatus { OK, MISSING, CORRUPT }

    private static final int CHUNK_ENTRY_BYTES = ChunkId.LENGTH_BYTES + 1 + 4 + 4;

    /**
     * PUT_CHUNKS request header: per chunk its id, codec, raw length and stored length; the
     * payload is the chunks' stored bytes back to back.
     */
    public static ByteBuffer encodeChunkHeader(List<ChunkData> chunks) {
        WireWriter w = new WireWriter(4 + chunks.size() * CHUNK_ENTRY_BYTES).i32(chunks.size());
        for (ChunkData c : chunks) {
            w.id(c.id()).u8(c.codec().code()).i32(c.rawLength()).i32(c.storedLength());
        }
        return w.toBuffer();
    }

    /** Splits a PUT_CHUNKS frame into chunks whose bytes are views of the payload. */
    public static List<ChunkData> decodeChunks(ByteBuffer header, ByteBuffer payload, int maxChunkBytes) {
        WireReader r = new WireReader(header);
        int count = r.count("chunks", CHUNK_ENTRY_BYTES);
        List<ChunkData> chunks = new ArrayList<>(count);
        int offset = payload.position();
        for (int i = 0; i < count; i++) {
            ChunkId id = r.id("chunk id");
            ChunkCodec codec = codec(r.u8("codec"));
            int rawLength = r.i32("raw length");
            int storedLength = r.i32("stored length");
            checkLength(rawLength, maxChunkBytes, id);
            checkLength(storedLength, maxChunkBytes, id);
            if (offset + storedLength > payload.limit()) {
                throw new ProtocolException("chunk " + id.shortHex() + " runs past the end of the frame payload");
            }
            chunks.add(new ChunkData(id, codec, rawLength, payload.slice(offset, storedLength)));
            offset += storedLength;
        }
        r.end("chunk list");
        if (offset != payload.limit()) {
            throw new ProtocolException("frame payload has " + (payload.limit() - offset) + " bytes no chunk claims");
        }
        return chunks;
    }

    private static final int PACK_MEMBER_BYTES = ChunkId.LENGTH_BYTES + 4;
    /** The least a pack takes in a PUT_PACKS header: its member count, one member, its stored length. */
    private static final int MIN_PACK_ENTRY_BYTES = 2 + PACK_MEMBER_BYTES + 4;

    /**
     * PUT_PACKS request header: per pack its member count, per member its id and raw length, then
     * the pack's stored length (its frame's); the payload is the packs' frames back to back.
     */
    public static ByteBuffer encodePackHeader(List<ChunkPack> packs) {
        int members = 0;
        for (ChunkPack p : packs) {
            members += p.members().size();
        }
        WireWriter w = new WireWriter(4 + packs.size() * 6 + members * PACK_MEMBER_BYTES).i32(packs.size());
        for (ChunkPack p : packs) {
            w.u16(p.members().size());
            for (ChunkPack.Member m : p.members()) {
                w.id(m.id()).i32(m.rawLength());
            }
            w.i32(p.storedLength());
        }
        return w.toBuffer();
    }

    /**
     * Splits a PUT_PACKS frame into packs whose frames are views of the payload. Checks the
     * limits of {@link ChunkPack} and that the frames tile the payload; does not decode them
     * (the store verifies each pack before it keeps it).
     */
    public static List<ChunkPack> decodePacks(ByteBuffer header, ByteBuffer payload, int maxChunkBytes) {
        WireReader r = new WireReader(header);
        int count = r.count("packs", MIN_PACK_ENTRY_BYTES);
        List<ChunkPack> packs = new ArrayList<>(count);
        int offset = payload.position();
        for (int i = 0; i < count; i++) {
            int memberCount = r.u16("pack member count");
            if (memberCount == 0 || memberCount > ChunkPack.MAX_MEMBERS) {
                throw new ProtocolException("pack " + i + " has " + memberCount + " members, not 1.." + ChunkPack.MAX_MEMBERS);
            }
            if (memberCount * PACK_MEMBER_BYTES + 4 > r.remaining()) {
                throw new ProtocolException("count " + memberCount + " of pack " + i + "'s members does not fit in the "
                        + r.remaining() + " bytes left");
            }
            List<ChunkPack.Member> members = new ArrayList<>(memberCount);
            java.util.Set<ChunkId> ids = new java.util.HashSet<>(2 * memberCount);
            for (int k = 0; k < memberCount; k++) {
                ChunkId id = r.id("pack member id");
                // A member twice would be stored once and cost its bytes twice: no writer makes one.
                if (!ids.add(id)) {
                    throw new ProtocolException("pack " + i + " names member " + id.shortHex() + " twice");
                }
                int rawLength = r.i32("pack member raw length");
                if (rawLength < 1 || rawLength > ChunkPack.MAX_MEMBER_BYTES) {
                    throw new ProtocolException("pack member " + id.shortHex() + " raw length " + rawLength
                            + " is outside 1.." + ChunkPack.MAX_MEMBER_BYTES);
                }
                members.add(new ChunkPack.Member(id, rawLength));
            }
            int storedLength = r.i32("pack stored length");
            // No zstd frame is empty.
            if (storedLength < 1 || storedLength > maxChunkBytes) {
                throw new ProtocolException("pack " + i + " from " + members.get(0).id().shortHex() + " stored length "
                        + storedLength + " is outside 1.." + maxChunkBytes);
            }
            if (offset + storedLength > payload.limit()) {
                throw new ProtocolException("pack " + i + " from " + members.get(0).id().shortHex()
                        + " runs past the end of the frame payload");
            }
            try {
                packs.add(new ChunkPack(members, payload.slice(offset, storedLength)));
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("pack " + i + " from " + members.get(0).id().shortHex() + ": " + e.getMessage());
            }
            offset += storedLength;
        }
        r.end("pack list");
        if (offset != payload.limit()) {
            throw new ProtocolException("frame payload has " + (payload.limit() - offset) + " bytes no pack claims");
        }
        return packs;
    }

    /** GET_CHUNKS response header: per asked id its status, codec, raw and stored length. */
    public static ByteBuffer encodeFetched(List<ChunkId> ids, List<ChunkData> found, List<ChunkStatus> status) {
        WireWriter w = new WireWriter(4 + ids.size() * CHUNK_ENTRY_BYTES).i32(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            ChunkData c = found.get(i);
            w.u8(status.get(i).ordinal());
            if (c == null) {
                w.u8(0).i32(0).i32(0);
            } else {
                w.u8(c.codec().code()).i32(c.rawLength()).i32(c.storedLength());
            }
        }
        return w.toBuffer();
    }

    /** One entry of a GET_CHUNKS response; {@code data} is null unless the status is OK. */
    public record Fetched(ChunkStatus status, ChunkData data) {}

    public static List<Fetched> decodeFetched(List<ChunkId> asked, ByteBuffer header, ByteBuffer payload, int maxChunkBytes) {
        WireReader r = new WireReader(header);
        int count = r.count("fetched chunks", 10);
        if (count != asked.size()) {
            throw new ProtocolException("asked for " + asked.size() + " chunks, the answer lists " + count);
        }
        List<Fetched> result = new ArrayList<>(count);
        int offset = payload.position();
        for (int i = 0; i < count; i++) {
            int s = r.u8("chunk status");
            if (s >= ChunkStatus.values().length) {
                throw new ProtocolException("unknown chunk status " + s);
            }
            ChunkStatus status = ChunkStatus.values()[s];
            ChunkCodec codec = codec(r.u8("codec"));
            int rawLength = r.i32("raw length");
            int storedLength = r.i32("stored length");
            if (status != ChunkStatus.OK) {
                result.add(new Fetched(status, null));
                continue;
            }
            checkLength(rawLength, maxChunkBytes, asked.get(i));
            checkLength(storedLength, maxChunkBytes, asked.get(i));
            if (offset + storedLength > payload.limit()) {
                throw new ProtocolException("chunk " + asked.get(i).shortHex() + " runs past the end of the frame payload");
            }
            result.add(new Fetched(status, new ChunkData(asked.get(i), codec, rawLength, payload.slice(offset, storedLength))));
            offset += storedLength;
        }
        r.end("fetched chunk list");
        return result;
    }

    private static ChunkCodec codec(int code) {
        try {
            return ChunkCodec.fromCode(code);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(e.getMessage());
        }
    }

    private static void checkLength(int length, int max, ChunkId id) {
        if (length < 0 || length > max) {
            throw new ProtocolException("chunk " + id.shortHex() + " length " + length + " is outside 0.." + max);
        }
    }
}
