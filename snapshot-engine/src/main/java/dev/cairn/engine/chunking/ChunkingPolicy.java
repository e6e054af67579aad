package dev.cairn.engine.chunking;

import java.util.regex.Pattern;

/**
 * Where files are cut into chunks. CRIU page files ({@code pages-N.img}) are cut at every 4 KiB
 * page because memory changes in scattered pages; every other file (and every stream) is cut by
 * {@link FastCdc}, 16/64/256 KiB min/avg/max unless configured otherwise.
 */
public final class ChunkingPolicy {

    public static final int PAGE_BYTES = 4096;
    public static final int DEFAULT_MIN_BYTES = 16 * 1024;
    public static final int DEFAULT_AVG_BYTES = 64 * 1024;
    public static final int DEFAULT_MAX_BYTES = 256 * 1024;

    public static final ChunkingPolicy DEFAULT =
            new ChunkingPolicy(new FastCdc(DEFAULT_MIN_BYTES, DEFAULT_AVG_BYTES, DEFAULT_MAX_BYTES));

    private static final Pattern CRIU_PAGES = Pattern.compile("pages-\\d+\\.img");

    /** Cuts a run of bytes into chunks; see {@link FastCdc#cut}. */
    public interface Cutter {
        /** Length of the chunk at {@code offset}; needs {@link #maxBytes()} bytes unless at the end. */
        int cut(byte[] data, int offset, int length);

        /** Longest chunk this cutter makes. */
        int maxBytes();
    }

    /** Fixed 4 KiB pages. */
    public static final Cutter PAGES = new Cutter() {
        @Override
        public int cut(byte[] data, int offset, int length) {
            return Math.min(length, PAGE_BYTES);
        }

        @Override
        public int maxBytes() {
            return PAGE_BYTES;
        }
    };

    private final FastCdc cdc;
    private final Cutter cdcCutter;

    public ChunkingPolicy(FastCdc cdc) {
        this.cdc = cdc;
        this.cdcCutter = new Cutter() {
            @Override
            public int cut(byte[] data, int offset, int length) {
                return cdc.cut(data, offset, length);
            }

            @Override
            public int maxBytes() {
                return cdc.maxBytes();
            }
        };
    }

    public FastCdc cdc() {
        return cdc;
    }

    /** Longest chunk any cutter of this policy makes. */
    public int maxChunkBytes() {
        return Math.max(PAGE_BYTES, cdc.maxBytes());
    }

    /** True for CRIU page files (the last path segment is what counts). */
    public static boolean isPageFile(String fileName) {
        int slash = fileName.lastIndexOf('/');
        String base = slash >= 0 ? fileName.substring(slash + 1) : fileName;
        return CRIU_PAGES.matcher(base).matches();
    }

    /** The cutter for a file of this name; a stream image has the empty name and gets FastCDC. */
    public Cutter cutterFor(String fileName) {
        return isPageFile(fileName) ? PAGES : cdcCutter;
    }
}
