package dev.cairn.protocol.transport;

import dev.cairn.config.Limits;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * The buffer allocator of a node's protocol and HTTP ports and of every client connection (`NodeConnection`).
 *
 * <p>Netty's default allocator pools buffers of up to 256 KiB only; a larger one is fresh memory
 * from the operating system, zeroed, page-faulted in and freed again. Nearly every frame of a put
 * or get is larger (batches of up to 4 MiB of packs, answers of up to a frame's limit), and so is
 * the buffer a node's frame decoder grows to gather a request. In a CPU profile of the
 * benchmark's HTTP puts, taking such memory was 6-9% of each node's CPU, and on the gateway it
 * also served many of the upload's socket reads. This pool's chunks hold a frame of the default
 * limit whole, so frames and reads reuse memory instead (docs/benchmarks-history.md has the measurements).
 * A frame larger than a chunk, possible only with a higher configured limit, is allocated on its
 * own, as before.
 *
 * <p>Two direct arenas, not Netty's two per core: a pool keeps for reuse at least one chunk per
 * arena it has used, so fewer arenas hold less idle memory. A frame takes one allocation per
 * request; contention for the arenas' locks was not measured. Nodes export what the pool holds as {@code cairn_net_buffer_pool_bytes}.
 */
public final class WireAllocator {

    private static final int PAGE_SHIFT = 13;
    private static final int PAGE_BYTES = 1 << PAGE_SHIFT;
    /** The smallest chunk ({@code PAGE_BYTES << MAX_ORDER}) that holds a frame of the default limit: 16 MiB. */
    private static final int MAX_ORDER = 32 - Integer.numberOfLeadingZeros(Limits.DEFAULT_MAX_FRAME_BYTES - 1) - PAGE_SHIFT;
    private static final int DIRECT_ARENAS = 2;

    public static final PooledByteBufAllocator INSTANCE = new PooledByteBufAllocator(true, 0, DIRECT_ARENAS,
            PAGE_BYTES, MAX_ORDER, PooledByteBufAllocator.defaultSmallCacheSize(),
            PooledByteBufAllocator.defaultNormalCacheSize(), PooledByteBufAllocator.defaultUseCacheForAllThreads());

    /** The bytes one chunk of the pool holds: the largest buffer it pools. */
    public static int chunkBytes() {
        return PAGE_BYTES << MAX_ORDER;
    }

    private WireAllocator() {
    }
}
