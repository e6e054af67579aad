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
    /**
     * The largest {@code maxFrameBytes}: 16 MiB. A frame is buffered whole before it is handled, so
     * this is the memory one request can pin; clients read answers of at most this size (they do not
     * learn a node's limit) and a node fills its chunk answers up to its own limit; and the frame's
     * int32 length field could not say more than 2 GiB anyway.
     */
    public static final int MAX_FRAME_BYTES = 16 * 1024 * 1024;
    /**
     * The largest {@code maxChunkBytes}: 4 MiB, what a client accepts when it reads a chunk back.
     * Clients cut chunks of at most 256 KiB (FastCDC) or 4 KiB (pages), far below it.
     */
    public static final int MAX_CHUNK_BYTES = 4 * 1024 * 1024;

    public Limits {
        if (maxChunkBytes < 4096) {
            throw new ConfigException("limits.maxChunkBytes must be at least 4096, got " + maxChunkBytes);
        }
        if (maxChunkBytes > MAX_CHUNK_BYTES) {
            throw new ConfigException("limits.maxChunkBytes must be at most " + MAX_CHUNK_BYTES + " (4 MiB), got "
                    + maxChunkBytes + ": clients read chunks of at most that size, so a larger one could be stored but never read back");
        }
        if (maxFrameBytes > MAX_FRAME_BYTES) {
            throw new ConfigException("limits.maxFrameBytes must be at most " + MAX_FRAME_BYTES + " (16 MiB), got "
                    + maxFrameBytes + ": clients refuse answers larger than that, and each frame is held whole in memory");
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
