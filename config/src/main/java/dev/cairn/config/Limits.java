package dev.cairn.config;

/**
 * Named limits of a node. Each bounds memory or time that a peer could otherwise make unbounded.
 *
 * @param maxFrameBytes largest protocol frame accepted; bounds the memory one request can pin
 *     (a batch of chunks must fit, so it is well above the largest chunk)
 * @param maxChunkBytes largest single chunk accepted
 * @param maxConnections protocol connections open at once; one more is closed as it arrives
 * @param maxInFlightBytesPerConnection request and answer bytes one protocol connection may hold in
 *     the node at once (requests being handled, answers not yet taken by the client); beyond it the
 *     node stops reading from that connection until some are released
 * @param maxInFlightBytes the same for all protocol connections together
 */
public record Limits(int maxFrameBytes, int maxChunkBytes, int maxConnections, long maxInFlightBytesPerConnection,
                     long maxInFlightBytes) {

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
    /**
     * 256 connections: a client (or a host's agent) keeps one connection per node and each node one
     * or two per peer, so this serves a cluster of a few hundred client hosts; each connection can
     * also hold one partly received frame that no budget counts yet (up to {@code maxFrameBytes}).
     */
    public static final int DEFAULT_MAX_CONNECTIONS = 256;
    public static final int MAX_CONNECTIONS = 65_536;
    /**
     * 64 MiB per connection: a put keeps 4 batches of at most 4 MiB in flight and a get 4 chunk
     * reads, each counted at the largest answer it may get (one frame, 16 MiB), so one get fits
     * whole; a client that stops reading its answers holds no more than this.
     */
    public static final long DEFAULT_MAX_IN_FLIGHT_BYTES_PER_CONNECTION = 64L * 1024 * 1024;
    /**
     * 512 MiB for the node: eight connections at their full budget at once; more connections share
     * it. With the partly received frames of {@code maxConnections} this bounds the port's memory.
     */
    public static final long DEFAULT_MAX_IN_FLIGHT_BYTES = 512L * 1024 * 1024;
    /** The largest in-flight budget: 64 GiB, more memory than a node should give its port. */
    public static final long MAX_IN_FLIGHT_BYTES = 64L * 1024 * 1024 * 1024;

    /** The frame and chunk limits given, the network limits at their defaults. */
    public Limits(int maxFrameBytes, int maxChunkBytes) {
        this(maxFrameBytes, maxChunkBytes, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT_BYTES_PER_CONNECTION,
                DEFAULT_MAX_IN_FLIGHT_BYTES);
    }

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
        if (maxConnections < 1 || maxConnections > MAX_CONNECTIONS) {
            throw new ConfigException("limits.maxConnections must be 1-" + MAX_CONNECTIONS + ", got " + maxConnections);
        }
        if (maxInFlightBytesPerConnection < maxFrameBytes || maxInFlightBytesPerConnection > MAX_IN_FLIGHT_BYTES) {
            throw new ConfigException("limits.maxInFlightBytesPerConnection must be at least maxFrameBytes ("
                    + maxFrameBytes + ", so one request always fits) and at most " + MAX_IN_FLIGHT_BYTES + ", got "
                    + maxInFlightBytesPerConnection);
        }
        if (maxInFlightBytes < maxInFlightBytesPerConnection || maxInFlightBytes > MAX_IN_FLIGHT_BYTES) {
            throw new ConfigException("limits.maxInFlightBytes must be at least maxInFlightBytesPerConnection ("
                    + maxInFlightBytesPerConnection + ") and at most " + MAX_IN_FLIGHT_BYTES + ", got " + maxInFlightBytes);
        }
    }

    public static Limits defaults() {
        return new Limits(DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_CHUNK_BYTES);
    }
}
