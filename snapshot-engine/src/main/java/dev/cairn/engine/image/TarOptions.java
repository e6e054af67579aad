package dev.cairn.engine.image;

/**
 * How a tar archive is read. By default an archive must end with its two end-of-archive zero
 * blocks: a stream that stops at a block boundary without them was cut off (an upload that
 * died, a pipe whose writer crashed), and storing it would turn half a checkpoint into an image
 * that looks whole. {@code allowTruncated} stores what arrived instead, for archives known to be
 * written without the end blocks.
 */
public record TarOptions(boolean allowTruncated) {

    /** End-of-archive blocks required. */
    public static final TarOptions STRICT = new TarOptions(false);

    /** An archive that stops at a block boundary is taken as complete. */
    public static final TarOptions ALLOW_TRUNCATED = new TarOptions(true);
}
