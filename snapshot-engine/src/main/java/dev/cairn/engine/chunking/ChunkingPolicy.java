package dev.cairn.engine.chunking;

import java.util.regex.Pattern;

/**
 * Where files are cut into chunks. CRIU page files ({@code pages-N.img}) are cut at every 4 KiB
 * page because memory changes in scattered pages; every other file is cut into fixed 64 KiB
 * blocks for now (content-defined chunking replaces this for non-page files).
 */
public final class ChunkingPolicy {

    public static final int PAGE_BYTES = 4096;
    public static final int BLOCK_BYTES = 64 * 1024;

    private static final Pattern CRIU_PAGES = Pattern.compile("pages-\\d+\\.img");

    private ChunkingPolicy() {}

    /** The chunk size for a file of this name (the last path segment is what counts). */
    public static int chunkSizeFor(String fileName) {
        int slash = fileName.lastIndexOf('/');
        String base = slash >= 0 ? fileName.substring(slash + 1) : fileName;
        return CRIU_PAGES.matcher(base).matches() ? PAGE_BYTES : BLOCK_BYTES;
    }
}
