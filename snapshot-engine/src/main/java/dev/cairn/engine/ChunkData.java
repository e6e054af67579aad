package dev.cairn.engine;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A chunk as it travels and rests: its id, how its bytes are encoded, its raw length and the
 * encoded bytes (the buffer's remaining bytes; nobody moves its position).
 */
public record ChunkData(ChunkId id, ChunkCodec codec, int rawLength, ByteBuffer bytes) {

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

    /** The raw bytes (decoded when needed). */
    public ByteBuffer rawBytes() {
        return switch (codec) {
            case RAW -> bytes.duplicate();
            case ZSTD -> throw new UnsupportedOperationException("zstd chunks are not supported yet");
        };
    }

    /** True when the raw bytes hash to the id: the check made on every write and every read. */
    public boolean verify() {
        return id.matches(rawBytes());
    }
}
