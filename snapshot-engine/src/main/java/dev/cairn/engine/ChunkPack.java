package dev.cairn.engine;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * Small distinct chunks compressed together as one zstd frame, each keeping its own id. A 4 KiB
 * page alone gives zstd little context; sixteen distinct pages compressed together take about 10%
 * fewer bytes on the real CRIU corpus (docs/benchmarks-history.md), and a pack needs one record header
 * where sixteen chunks needed sixteen. The frame decodes to the members' raw bytes back to back, in
 * member order; it carries neither content size nor checksum (each member's SHA-256 is its check).
 *
 * <p>Only the store and the wire know packs: a chunk read back from a pack is an ordinary RAW
 * chunk, and placement, dedup and GC still work chunk by chunk.
 */
public record ChunkPack(List<Member> members, ByteBuffer frame) {

    /** One chunk of a pack: its id and raw length; its bytes are its slice of the decoded frame. */
    public record Member(ChunkId id, int rawLength) {
        public Member {
            Objects.requireNonNull(id, "id");
            if (rawLength <= 0 || rawLength > MAX_MEMBER_BYTES) {
                throw new IllegalArgumentException("a pack member's raw length must be 1.." + MAX_MEMBER_BYTES
                        + ", not " + rawLength);
            }
        }
    }

    /** A chunk joins a pack only up to this raw size; larger chunks give zstd context enough alone. */
    public static final int MAX_MEMBER_BYTES = 16 * 1024;
    /** A pack decodes to at most this many bytes (sixteen 4 KiB pages): a read of one member decodes them all. */
    public static final int MAX_RAW_BYTES = 64 * 1024;
    /** Bound on members per pack (a byte each would otherwise allow 65,536). */
    public static final int MAX_MEMBERS = 256;

    /** True when a chunk of {@code rawLength} raw bytes may join a pack (when it is not encoded yet). */
    public static boolean mayJoin(int rawLength) {
        return rawLength > 0 && rawLength <= MAX_MEMBER_BYTES;
    }

    /** True when a pack of {@code members} chunks and {@code rawBytes} bytes has no room for one of {@code rawLength}. */
    public static boolean isFull(int members, int rawBytes, int rawLength) {
        return members == MAX_MEMBERS || rawBytes + rawLength > MAX_RAW_BYTES;
    }

    private static final ThreadLocal<byte[]> VERIFY_SCRATCH = ThreadLocal.withInitial(() -> new byte[MAX_RAW_BYTES]);

    public ChunkPack {
        members = List.copyOf(members);
        Objects.requireNonNull(frame, "frame");
        if (members.isEmpty() || members.size() > MAX_MEMBERS) {
            throw new IllegalArgumentException("a pack holds 1.." + MAX_MEMBERS + " members, not " + members.size());
        }
        long raw = 0;
        for (Member m : members) {
            raw += m.rawLength();
        }
        if (raw > MAX_RAW_BYTES) {
            throw new IllegalArgumentException("a pack decodes to at most " + MAX_RAW_BYTES + " bytes, not " + raw);
        }
    }

    /** Bytes the frame decodes to: the members' raw lengths added up. */
    public int rawLength() {
        int raw = 0;
        for (Member m : members) {
            raw += m.rawLength();
        }
        return raw;
    }

    /** Encoded bytes: the frame's length. */
    public int storedLength() {
        return frame.remaining();
    }

    /** Where member {@code slot}'s bytes start in the decoded frame. */
    public int offsetOf(int slot) {
        int offset = 0;
        for (int i = 0; i < slot; i++) {
            offset += members.get(i).rawLength();
        }
        return offset;
    }

    /**
     * The frame's bytes that member {@code slot} accounts for, so that the members' shares add up to
     * the frame exactly: for reporting what an image occupies, chunk by chunk.
     */
    public int storedShare(int slot) {
        return share(storedLength(), rawLength(), offsetOf(slot), members.get(slot).rawLength());
    }

    /**
     * Member {@code [from, from + length)} of a whole of {@code rawTotal} raw bytes gets this part of
     * {@code total}; the parts of consecutive members add up to {@code total} exactly.
     */
    public static int share(long total, long rawTotal, long from, long length) {
        return (int) (total * (from + length) / rawTotal - total * from / rawTotal);
    }

    /** The raw bytes of every member back to back; {@link ChunkData.CorruptChunkException} when the frame is bad. */
    public byte[] decode() {
        byte[] raw = new byte[rawLength()];
        ZstdFrames.decompress(frame, raw, raw.length, this::describe);
        return raw;
    }

    /** Member {@code slot} as a RAW chunk over its slice of {@code decoded} (from {@link #decode}). */
    public ChunkData member(int slot, byte[] decoded) {
        Member m = members.get(slot);
        return new ChunkData(m.id(), ChunkCodec.RAW, m.rawLength(), ByteBuffer.wrap(decoded, offsetOf(slot), m.rawLength()).slice());
    }

    /**
     * True when the frame decodes to exactly the members' bytes and each member's bytes hash to its
     * id: the check made before a pack is stored. A frame that does not decode gives false.
     */
    public boolean verify() {
        int raw = rawLength();
        byte[] scratch = ZstdFrames.scratch(VERIFY_SCRATCH, raw);
        try {
            ZstdFrames.decompress(frame, scratch, raw, this::describe);
        } catch (ChunkData.CorruptChunkException e) {
            return false;
        }
        int offset = 0;
        for (Member m : members) {
            if (!m.id().matches(scratch, offset, m.rawLength())) {
                return false;
            }
            offset += m.rawLength();
        }
        return true;
    }

    private String describe() {
        return "pack of " + members.size() + " chunks from " + members.get(0).id().shortHex() + "…";
    }
}
