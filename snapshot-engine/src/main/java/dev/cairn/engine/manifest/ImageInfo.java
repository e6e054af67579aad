package dev.cairn.engine.manifest;

import dev.cairn.engine.ImageName;

/**
 * A catalog entry: an image's name, its root, the Raft index at which it was committed and, for
 * an image of an incremental dump, the image it was dumped on top of (its lineage; null for none).
 */
public record ImageInfo(ImageName name, ImageRoot root, long commitIndex, ImageName parent) {

    public ImageInfo {
        if (parent != null && parent.equals(name)) {
            throw new IllegalArgumentException("image " + name + " cannot be its own parent");
        }
    }

    /** An entry without lineage. */
    public ImageInfo(ImageName name, ImageRoot root, long commitIndex) {
        this(name, root, commitIndex, null);
    }
}
