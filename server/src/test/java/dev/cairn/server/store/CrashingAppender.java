package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The child process of {@link ChunkStoreProcessCrashTest}: opens the store in {@code args[0]} and
 * appends chunks from {@code args[2]} threads until it is killed, printing {@code ack THREAD INDEX}
 * on stdout (flushed) after each append's future completed, so every printed line names a chunk the
 * store acknowledged. The chunks are a function of (seed, thread, index) so the test can rebuild them.
 */
public final class CrashingAppender {

    static final int MAX_CHUNK_BYTES = 48 * 1024;
    /** Small segments so that crashes also land around segment rolls. */
    static final long SEGMENT_BYTES = 2L * 1024 * 1024;

    private CrashingAppender() {}

    static ChunkStoreOptions options() {
        return ChunkStoreOptions.defaults().withMaxChunkBytes(MAX_CHUNK_BYTES).withMaxSegmentBytes(SEGMENT_BYTES);
    }

    /** The chunk of one (seed, thread, index): 1 byte to 48 KiB, distinct by construction. */
    static ChunkData chunk(long seed, int thread, int index) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + thread * 100_000_007L + index);
        byte[] bytes = new byte[1 + random.nextInt(MAX_CHUNK_BYTES)];
        new Random(random.nextLong()).nextBytes(bytes);
        return ChunkData.raw(bytes);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int threads = Integer.parseInt(args[2]);
        ChunkStore store = ChunkStore.open(dir, options());
        System.out.println("ready");
        System.out.flush();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread writer = new Thread(() -> {
                for (int i = 0; ; i++) {
                    int batch = 1 + (i % 3);
                    List<ChunkData> chunks = new java.util.ArrayList<>();
                    for (int k = 0; k < batch; k++) {
                        chunks.add(chunk(seed, thread, i * 3 + k));
                    }
                    store.append(chunks).join();
                    synchronized (System.out) {
                        for (int k = 0; k < batch; k++) {
                            System.out.println("ack " + thread + " " + (i * 3 + k));
                        }
                        System.out.flush();
                    }
                }
            }, "appender-" + t);
            writer.start();
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
