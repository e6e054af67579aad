package dev.cairn.engine;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A chunk as it travels and rests: its id, how its bytes are encoded, its raw length and the
 * encoded bytes (the buffer's remaining bytes; nobody moves its position).
 */
public record ChunkData(ChunkId id, ChunkCodec codec, int rawLength, ByteBuffer bytes) {

    private static final ThreadLocal<byte[]> VERIFY_SCRATCH = ThreadLocal.withInitial(() -> new byte[64 * 1024]);

    public ChunkData {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(codec, "codec");
        Objects.requireNonNull(bytes, "bytes");
        if (rawLength < 0) {
            throw new IllegalArgumentException("negative raw length " + rawLength);
        }
        if (codec == ChunkCodec.RAW && bytes.remaining() != rawLength) {
            throw new IllegalArgumentException("a raw chunk's length " + bytes.remaining()
                    + " differs from its raw length " + rawLength);
        }
    }

    /** A raw chunk of {@code bytes}, hashed here. */
    public static ChunkData raw(byte[] bytes) {
        return new ChunkData(ChunkId.of(bytes), ChunkCodec.RAW, bytes.length, ByteBuffer.wrap(bytes));
    }

    /** Number of encoded bytes. */
    public int storedLength() {
        return bytes.remaining();
    }

    /**
     * The raw bytes (decoded when needed). A ZSTD chunk whose bytes do not decode to exactly
     * {@code rawLength} bytes throws {@link CorruptChunkException}.
     */
    public ByteBuffer rawBytes() {
        return switch (codec) {
            case RAW -> bytes.duplicate();
            case ZSTD -> ByteBuffer.wrap(decompress());
        };
    }

    private byte[] decompress() {
        byte[] raw = new byte[rawLength];
        decompressInto(raw);
        return raw;
    }

    /** Decodes into {@code dest} (at least rawLength long); returns rawLength or throws. */
    private int decompressInto(byte[] dest) {
        ZstdFrames.decompress(bytes, dest, rawLength, () -> "chunk " + id.shortHex() + "…");
        return rawLength;
    }

    /**
     * True when the raw bytes hash to the id: the check made on every write and every read.
     * Bytes that do not decode are not the chunk, so they give false rather than an exception.
     */
    public boolean verify() {
        if (codec == ChunkCodec.RAW) {
            return id.matches(bytes.duplicate());
        }
        // Decoded into a per-thread buffer: every write and read verifies, and a fresh array per
        // chunk showed up in profiles as zeroing and page faults rather than hashing.
        byte[] scratch = ZstdFrames.scratch(VERIFY_SCRATCH, rawLength);
        try {
            return id.matches(scratch, 0, decompressInto(scratch));
        } catch (CorruptChunkException e) {
            return false;
        }
    }

    /** Encoded bytes that cannot be decoded into the chunk's raw bytes. */
    public static final class CorruptChunkException extends RuntimeException {
        public CorruptChunkException(String message) {
            super(message);
        }
    }
}
