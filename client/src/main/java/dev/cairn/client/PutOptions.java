package dev.cairn.client;

/**
 * How a put reads its source beyond the defaults.
 *
 * @param allowTruncatedTar store a tar archive that ends without its two end-of-archive blocks
 *     (what arrived before it was cut off) instead of refusing it; for writers known to omit them
 */
public record PutOptions(boolean allowTruncatedTar) {

    /** A tar must be complete. */
    public static final PutOptions DEFAULT = new PutOptions(false);

    /** These options, taking a tar that was cut off at a block boundary as it arrived. */
    public PutOptions withAllowTruncatedTar() {
        return new PutOptions(true);
    }
}
