package dev.cairn.engine.chunking;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.EncoderPool;
import dev.cairn.engine.manifest.ChunkRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Cuts, hashes and compresses inputs in parallel with bounded memory, and hands the chunks to a
 * {@link Sink} in input order on the calling thread.
 *
 * <p>The calling thread reads and cuts (cutting is cheap and sequential by nature); batches of
 * about {@link #BATCH_BYTES} go to {@code threads} workers that hash every chunk and compress the
 * ones not seen before in this pipeline. At most {@code windowBatches} batches exist at once, so
 * memory is bounded by about {@code windowBatches * 2 * (BATCH_BYTES + maxChunk)} whatever the
 * input size, plus the spare buffers the process keeps between pipelines ({@link BatchBuffers},
 * at most 32 MiB). Not thread-safe: one caller at a time.
 */
public final class ChunkPipeline implements AutoCloseable {

    /** Raw bytes per batch handed to a worker. */
    public static final int BATCH_BYTES = 1024 * 1024;

    /**
     * One chunk of the input: {@code data} is null when the same id came earlier in this pipeline;
     * otherwise it is encoded, or a raw copy when the pipeline does not compress.
     */
    public record Chunk(ChunkId id, int rawLength, ChunkData data) {}

    /** Receives the chunks in input order, on the thread that calls {@link #add} or {@link #drain}. */
    public interface Sink {
        void accept(Chunk chunk);
    }

    private final ChunkingPolicy policy;
    private final boolean compress;
    private final Sink sink;
    private final int windowBatches;
    private final EncoderPool workers;
    private final Set<ChunkId> seen = ConcurrentHashMap.newKeySet();
    private final ArrayDeque<Pending> window = new ArrayDeque<>();
    /**
     * Where batch buffers come from and go back to once their chunks are done. Reused because a
     * fresh megabyte per batch (and per file, however small) is zeroed and page-faulted in again:
     * for a CRIU dump of many small files that cost more than cutting them. Shared across
     * pipelines because G1 allocates arrays this size as humongous objects ({@link BatchBuffers}).
     */
    private final BatchBuffers buffers;
    /** Every buffer is this long, whatever the file's cutter, so that any spare fits any file. */
    private final int bufferBytes;

    private record Pending(Future<Chunk[]> chunks, List<ChunkRef> refs) {}

    /**
     * @param threads workers that hash and compress (the available processors is a good choice)
     * @param windowBatches batches that may exist at once; at least {@code threads + 1} keeps every worker busy
     */
    public ChunkPipeline(ChunkingPolicy policy, int zstdLevel, int threads, int windowBatches, Sink sink) {
        this(policy, zstdLevel, true, threads, windowBatches, sink);
    }

    /**
     * @param compress false to hand out raw copies of first sightings: a client that asks the
     *     cluster first compresses only the chunks it has to send
     */
    public ChunkPipeline(ChunkingPolicy policy, int zstdLevel, boolean compress, int threads, int windowBatches,
                         Sink sink) {
        this(policy, zstdLevel, compress, threads, windowBatches, sink, BatchBuffers.SHARED);
    }

    ChunkPipeline(ChunkingPolicy policy, int zstdLevel, boolean compress, int threads, int windowBatches, Sink sink,
                  BatchBuffers buffers) {
        if (threads < 1 || windowBatches < 1) {
            throw new IllegalArgumentException("need at least one worker and one batch, got " + threads + "/" + windowBatches);
        }
        this.policy = policy;
        this.compress = compress;
        this.sink = sink;
        this.windowBatches = windowBatches;
        this.buffers = buffers;
        this.bufferBytes = BATCH_BYTES + policy.maxChunkBytes();
        // Native zstd contexts open only when a worker first borrows an encoder: never when hashing only.
        this.workers = new EncoderPool("cairn-chunker", threads, zstdLevel);
    }

    /** A pipeline with the default policy and level, one worker per processor. */
    public static ChunkPipeline withDefaults(Sink sink) {
        int cpus = Runtime.getRuntime().availableProcessors();
        return new ChunkPipeline(ChunkingPolicy.DEFAULT, ChunkEncoder.DEFAULT_LEVEL, cpus, 2 * cpus + 2, sink);
    }

    /**
     * Reads {@code in} to its end and cuts it as a file named {@code name} is cut. Its chunk refs
     * are appended to {@code refs} as the batches drain: {@code refs} is complete after {@link #drain}.
     * Chunks of earlier inputs may reach the sink during this call.
     */
    public void add(String name, InputStream in, List<ChunkRef> refs) throws IOException {
        ChunkingPolicy.Cutter cutter = policy.cutterFor(name);
        int capacity = BATCH_BYTES + cutter.maxBytes();
        byte[] buffer = buffers.take(bufferBytes);
        int filled = 0;
        boolean eof = false;
        while (true) {
            while (!eof && filled < capacity) {
                int r = in.read(buffer, filled, capacity - filled);
                if (r < 0) {
                    eof = true;
                } else {
                    filled += r;
                }
            }
            int[] cuts = new int[capacity / Math.min(cutter.maxBytes(), ChunkingPolicy.PAGE_BYTES) + 2];
            int count = 0;
            int position = 0;
            while (position < filled && (eof || filled - position >= cutter.maxBytes())) {
                int length = cutter.cut(buffer, position, filled - position);
                if (count == cuts.length) {
                    cuts = java.util.Arrays.copyOf(cuts, 2 * count);
                }
                cuts[count++] = length;
                position += length;
            }
            boolean done = eof && position == filled;
            byte[] next = null;
            if (!done) {
                // The uncut tail (shorter than a maximal chunk) starts the next batch. It is copied out
                // before the batch is submitted: a worker that is done with the batch gives its buffer
                // back to the spares, where another pipeline may take it and write over the tail.
                next = buffers.take(bufferBytes);
                System.arraycopy(buffer, position, next, 0, filled - position);
            }
            if (count > 0) {
                submit(buffer, java.util.Arrays.copyOf(cuts, count), refs);
            } else {
                buffers.give(buffer);
            }
            if (done) {
                return;
            }
            filled -= position;
            buffer = next;
        }
    }

    /**
     * Records {@code id} as seen; true the first time. For chunks made outside the pipeline
     * (manifest chunks) that must dedup against the pipeline's own.
     */
    public boolean firstSighting(ChunkId id) {
        return seen.add(id);
    }

    /** Hands every chunk added so far to the sink. */
    public void drain() {
        while (!window.isEmpty()) {
            deliver(window.poll());
        }
    }

    private void submit(byte[] buffer, int[] lengths, List<ChunkRef> refs) {
        while (window.size() >= windowBatches) {
            deliver(window.poll());
        }
        window.add(new Pending(workers.submit(() -> process(buffer, lengths)), refs));
    }

    private Chunk[] process(byte[] buffer, int[] lengths) throws InterruptedException {
        // One encoder for the whole batch, borrowed only by a pipeline that compresses.
        Chunk[] out = compress ? workers.withEncoder(encoder -> hashAndEncode(buffer, lengths, encoder))
                : hashAndEncode(buffer, lengths, null);
        // Every chunk handed out owns its bytes (encoded or copied), so the buffer is free again.
        buffers.give(buffer);
        return out;
    }

    /** Hashes every chunk and encodes first sightings with {@code encoder}, or copies them raw when it is null. */
    private Chunk[] hashAndEncode(byte[] buffer, int[] lengths, ChunkEncoder encoder) {
        Chunk[] out = new Chunk[lengths.length];
        int offset = 0;
        for (int i = 0; i < lengths.length; i++) {
            int length = lengths[i];
            ChunkId id = ChunkId.of(buffer, offset, length);
            // Only the first sighting of an id is compressed: a zero page is compressed once per pipeline.
            ChunkData data = null;
            if (seen.add(id)) {
                data = encoder != null ? encoder.encode(id, buffer, offset, length)
                        : new ChunkData(id, ChunkCodec.RAW, length,
                                ByteBuffer.wrap(Arrays.copyOfRange(buffer, offset, offset + length)));
            }
            out[i] = new Chunk(id, length, data);
            offset += length;
        }
        return out;
    }

    /** Encoders (native zstd contexts) this pipeline has opened; none when it only hashes. */
    int encodersOpened() {
        return workers.opened();
    }

    private void deliver(Pending pending) {
        Chunk[] chunks;
        try {
            chunks = pending.chunks.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while chunking", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("chunking failed: " + e.getCause(), e.getCause());
        }
        for (Chunk c : chunks) {
            pending.refs.add(new ChunkRef(c.id(), c.rawLength()));
            sink.accept(c);
        }
    }

    @Override
    public void close() {
        window.clear();
        workers.close();
    }
}
