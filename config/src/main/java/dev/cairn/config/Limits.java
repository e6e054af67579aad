package dev.cairn.config;

/**
 * Named limits of a node. Each bounds memory or time that a peer could otherwise make unbounded.
 *
 * @param maxFrameBytes largest protocol frame accepted; bounds the memory one request can pin
 *     (a batch of chunks must fit, so it is well above the largest chunk)
 * @param maxChunkBytes largest single chunk accepted
 */
public record Limits(int maxFrameBytes, int maxChunkBytes) {

    public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
    public static final int DEFAULT_MAX_CHUNK_BYTES = 4 * 1024 * 1024;

    public Limits {
        if (maxChunkBytes < 4096) {
            throw new ConfigException("limits.maxChunkBytes must be at least 4096, got " + maxChunkBytes);
        }
        if (maxFrameBytes < maxChunkBytes + 65536) {
            throw new ConfigException("limits.maxFrameBytes must be at least maxChunkBytes + 65536 ("
                    + (maxChunkBytes + 65536) + "), got " + maxFrameBytes);
        }
    }

    public static Limits defaults() {
        return new Limits(DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_CHUNK_BYTES);
    }
}
