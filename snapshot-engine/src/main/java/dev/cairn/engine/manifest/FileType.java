package dev.cairn.engine.manifest;

/** What an entry of an image is. */
public enum FileType {
    DIRECTORY,
    REGULAR,
    SYMLINK,
    /** The single entry of an image put from a stream ({@code -}). */
    STREAM
}
