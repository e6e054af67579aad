package dev.cairn.engine.manifest;

import dev.cairn.engine.ChunkId;

/** A reference from a file to one of its chunks, in file order. */
public record ChunkRef(ChunkId id, int rawLength) {
    public ChunkRef {
        if (id == null) {
            throw new IllegalArgumentException("chunk ref without id");
        }
        if (rawLength <= 0) {
            throw new IllegalArgumentException("chunk ref of non-positive length " + rawLength);
        }
    }
}
