package dev.cairn.server.store;

import java.io.IOException;

/**
 * The chunk store stopped accepting appends after a write or fsync error. After a failed fsync the
 * kernel may have dropped the dirty pages, so nothing written since the last good fsync can be
 * trusted; the store never retries.
 */
public final class ChunkStoreFailedException extends IOException {

    static final String MESSAGE =
            "chunk store is failed after a disk error (a failed fsync, write or compaction step); the node must be restarted after the disk is checked";

    public ChunkStoreFailedException(Throwable cause) {
        super(MESSAGE + " (cause: " + cause + ")", cause);
    }
}
