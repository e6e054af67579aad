package dev.cairn.engine.image;

import java.io.IOException;

/** An input that cannot become an image (unreadable, hostile, special files); the message says which and why. */
public final class SourceException extends IOException {
    public SourceException(String message) {
        super(message);
    }

    public SourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
