package dev.cairn.server.store;

import dev.cairn.engine.ChunkId;
import java.io.IOException;

/** A chunk whose bytes do not match its id or whose stored record fails its CRC. */
public final class ChunkCorruptException extends IOException {

    private final transient ChunkId chunkId;

    public ChunkCorruptException(ChunkId chunkId, String message) {
        super(message);
        this.chunkId = chunkId;
    }

    /** The chunk that is corrupt. */
    public ChunkId chunkId() {
        return chunkId;
    }
}
