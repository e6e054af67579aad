package dev.cairn.engine.manifest;

/** A manifest whose bytes are corrupt, truncated, of an unknown version or beyond the limits. */
public final class ManifestFormatException extends RuntimeException {
    public ManifestFormatException(String message) {
        super(message);
    }
}
