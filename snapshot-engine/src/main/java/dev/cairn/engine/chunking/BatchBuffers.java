package dev.cairn.engine.chunking;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Spare batch buffers that pipelines hand on to one another, up to a bound, so that a process
 * running put after put (a node behind its HTTP API) stops allocating them.
 *
 * <p>A batch buffer is over a megabyte. G1 allocates an array that size as a humongous object,
 * and each such allocation may start a concurrent marking cycle. A gateway that gave every put
 * fresh buffers (about eleven per put) started marking 29 times at such allocations in a
 * benchmark run of 70 puts; docs/benchmarks-history.md has the measurements.
 */
final class BatchBuffers {

    /** What the process keeps between puts: 25 buffers of the default policy. */
    static final long DEFAULT_MAX_SPARE_BYTES = 32L * 1024 * 1024;

    /** The buffers every pipeline of this process shares unless it is given its own. */
    static final BatchBuffers SHARED = new BatchBuffers(DEFAULT_MAX_SPARE_BYTES);

    private final long maxSpareBytes;
    private final ConcurrentLinkedQueue<byte[]> spares = new ConcurrentLinkedQueue<>();
    private final AtomicLong spareBytes = new AtomicLong();
    private final AtomicInteger allocated = new AtomicInteger();

    BatchBuffers(long maxSpareBytes) {
        this.maxSpareBytes = maxSpareBytes;
    }

    /** A spare of at least {@code length} bytes, or a new array; its contents are whatever they were. */
    byte[] take(int length) {
        byte[] spare;
        while ((spare = spares.poll()) != null) {
            spareBytes.addAndGet(-spare.length);
            if (spare.length >= length) {
                return spare;
            }
            // Too small (another policy's buffer): dropped, so that the spares converge on one size.
        }
        allocated.incrementAndGet();
        return new byte[length];
    }

    /** Takes back a buffer no chunk refers to any more; dropped when the spares are full. */
    void give(byte[] buffer) {
        if (spareBytes.addAndGet(buffer.length) <= maxSpareBytes) {
            spares.add(buffer);
        } else {
            spareBytes.addAndGet(-buffer.length);
        }
    }

    /** Arrays allocated because no spare fitted. */
    int allocated() {
        return allocated.get();
    }

    long spareBytes() {
        return spareBytes.get();
    }
}
