package dev.cairn.engine.manifest;

import dev.cairn.engine.ChunkId;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * The root of an image: the only part that goes into the Raft catalog, so it has a fixed, small
 * size whatever the image's size. The manifest itself lives in the chunk store as chunks.
 *
 * @param manifestId the root chunk of the manifest tree
 * @param logicalBytes total size of the image's files
 * @param storedBytes encoded bytes of the image's distinct chunks
 * @param fileCount number of entries (files, directories, symlinks)
 * @param chunkCount number of chunk references in the image's files
 * @param createdMillis creation time, milliseconds since the epoch
 */
public record ImageRoot(ChunkId manifestId, long logicalBytes, long storedBytes, long fileCount, long chunkCount,
                        long createdMillis) {

    public static final int VERSION = 1;
    public static final int ENCODED_LENGTH = 1 + ChunkId.LENGTH_BYTES + 5 * Long.BYTES;

    public ImageRoot {
        if (manifestId == null) {
            throw new IllegalArgumentException("manifestId is null");
        }
        if (logicalBytes < 0 || storedBytes < 0 || fileCount < 0 || chunkCount < 0) {
            throw new IllegalArgumentException("negative size in image root");
        }
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(ENCODED_LENGTH);
        b.put((byte) VERSION);
        manifestId.write(b);
        b.putLong(logicalBytes).putLong(storedBytes).putLong(fileCount).putLong(chunkCount).putLong(createdMillis);
        return b.array();
    }

    public static ImageRoot decode(ByteBuffer b) {
        try {
            int version = b.get() & 0xff;
            if (version != VERSION) {
                throw new IllegalArgumentException("image root version " + version + " is not known to this build");
            }
            return new ImageRoot(ChunkId.read(b), b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong());
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("image root is truncated", e);
        }
    }
}
