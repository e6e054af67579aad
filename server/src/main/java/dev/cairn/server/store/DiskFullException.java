package dev.cairn.server.store;

import java.io.IOException;

/**
 * An append failed because the data disk is full. The partial write was cut off again: nothing of
 * the append was acknowledged, everything acknowledged before is intact, and the store keeps
 * accepting appends (they succeed once space is freed).
 */
public final class DiskFullException extends IOException {

    DiskFullException(String message, Throwable cause) {
        super(message, cause);
    }
}
