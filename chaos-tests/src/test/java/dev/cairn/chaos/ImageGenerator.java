package dev.cairn.chaos;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * The bytes of each image, reproducible from the run's seed and the image's name. An image is a
 * sequence of 64 KiB blocks, most drawn from a small shared pool (so images share chunks and the
 * store deduplicates them) and some unique to the image; sizes are random, zero included.
 */
final class ImageGenerator {

    private static final int BLOCK = 64 * 1024;
    private final byte[][] pool;
    private final long seed;
    private final int maxBytes;

    ImageGenerator(long seed, int poolBlocks, int maxBytes) {
        this.seed = seed;
        this.maxBytes = maxBytes;
        Random r = new Random(seed ^ 0x5eed_b10cL);
        pool = new byte[poolBlocks][BLOCK];
        for (byte[] b : pool) {
            r.nextBytes(b);
        }
    }

    byte[] bytes(String name) {
        Random r = new Random(seed * 31 + name.hashCode());
        int size = r.nextInt(8) == 0 ? r.nextInt(100) : r.nextInt(maxBytes + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        while (out.size() < size) {
            int n = Math.min(size - out.size(), BLOCK);
            if (r.nextInt(4) == 0) {
                byte[] unique = new byte[n];
                r.nextBytes(unique);
                out.write(unique, 0, n);
            } else {
                out.write(pool[r.nextInt(pool.length)], 0, n);
            }
        }
        return out.toByteArray();
    }
}
