package dev.cairn.engine;

/** How a chunk's bytes are encoded at rest and on the wire. The id is always of the raw bytes. */
public enum ChunkCodec {
    /** The bytes as they are. */
    RAW(0),
    /** zstd-compressed (used when compression pays). */
    ZSTD(1);

    private final int code;

    ChunkCodec(int code) {
        this.code = code;
    }

    /** The byte that names this codec in records and frames. */
    public int code() {
        return code;
    }

    public static ChunkCodec fromCode(int code) {
        return switch (code) {
            case 0 -> RAW;
            case 1 -> ZSTD;
            default -> throw new IllegalArgumentException("unknown chunk codec " + code);
        };
    }
}
