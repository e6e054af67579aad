package dev.cairn.engine.chunking;

/**
 * FastCDC content-defined chunking: a gear rolling hash with normalized chunking (NC level 2)
 * and cut-point skipping below the minimum size, as in Xia et al., "FastCDC: a Fast and
 * Efficient Content-Defined Chunking Approach for Data Deduplication", USENIX ATC 2016.
 *
 * <p>Boundaries depend only on the bytes since the previous boundary, so they are the same on
 * every run and machine, and an edit moves only the boundaries next to it. The gear table is
 * 256 64-bit values drawn from SplitMix64 seeded with {@link #GEAR_SEED}; changing the seed or
 * the masks changes every boundary and so every chunk id, which is a format change.
 *
 * <p>The hash is {@code h = (h << 1) + GEAR[byte]}; its top k bits depend on the last 64 bytes
 * only. Before the average size a cut needs the top {@code log2(avg) + 2} bits to be zero (cuts
 * are rarer), after it only the top {@code log2(avg) - 2} bits (cuts are likelier); this pulls
 * chunk sizes toward the average.
 */
public final class FastCdc {

    /** Seed of the gear table: the ASCII bytes "cairn-gc". */
    public static final long GEAR_SEED = 0x636169726e2d6763L;
    /** Smallest average this chunker accepts; smaller chunks belong to the page chunker. */
    public static final int MIN_AVG_BYTES = 256;
    /** Largest chunk this chunker makes (the store's default chunk limit is 4 MiB). */
    public static final int MAX_MAX_BYTES = 4 * 1024 * 1024;

    static final long[] GEAR = gearTable(GEAR_SEED);

    private final int minBytes;
    private final int avgBytes;
    private final int maxBytes;
    private final long maskSmall;
    private final long maskLarge;

    /** min &lt; avg &lt; max; avg a power of two. */
    public FastCdc(int minBytes, int avgBytes, int maxBytes) {
        if (Integer.bitCount(avgBytes) != 1 || avgBytes < MIN_AVG_BYTES) {
            throw new IllegalArgumentException("FastCDC average size must be a power of two of at least "
                    + MIN_AVG_BYTES + " bytes, got " + avgBytes);
        }
        if (minBytes < 1 || minBytes >= avgBytes || maxBytes <= avgBytes || maxBytes > MAX_MAX_BYTES) {
            throw new IllegalArgumentException("FastCDC sizes must satisfy 0 < min < avg < max <= " + MAX_MAX_BYTES
                    + ", got " + minBytes + "/" + avgBytes + "/" + maxBytes);
        }
        this.minBytes = minBytes;
        this.avgBytes = avgBytes;
        this.maxBytes = maxBytes;
        int bits = Integer.numberOfTrailingZeros(avgBytes);
        this.maskSmall = -1L << (64 - (bits + 2));
        this.maskLarge = -1L << (64 - (bits - 2));
    }

    public int minBytes() {
        return minBytes;
    }

    public int avgBytes() {
        return avgBytes;
    }

    public int maxBytes() {
        return maxBytes;
    }

    /**
     * Length of the chunk that starts at {@code offset}, given {@code length} bytes from there.
     * The caller must offer at least {@link #maxBytes()} bytes unless these are the last bytes of
     * the input; then the whole rest may come back as one chunk.
     */
    public int cut(byte[] data, int offset, int length) {
        if (length <= minBytes) {
            return length;
        }
        int end = Math.min(length, maxBytes);
        int normal = Math.min(avgBytes, end);
        long h = 0;
        int i = minBytes;
        long[] gear = GEAR;
        for (; i < normal; i++) {
            h = (h << 1) + gear[data[offset + i] & 0xff];
            if ((h & maskSmall) == 0) {
                return i + 1;
            }
        }
        for (; i < end; i++) {
            h = (h << 1) + gear[data[offset + i] & 0xff];
            if ((h & maskLarge) == 0) {
                return i + 1;
            }
        }
        return end;
    }

    private static long[] gearTable(long seed) {
        long[] table = new long[256];
        long state = seed;
        for (int i = 0; i < table.length; i++) {
            // SplitMix64 (Steele, Lea, Flood 2014): fixed, portable, well mixed.
            state += 0x9e3779b97f4a7c15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            table[i] = z ^ (z >>> 31);
        }
        return table;
    }
}
