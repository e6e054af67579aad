package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkPack;
import java.io.IOException;

/**
 * Why the store refuses a chunk or a pack before queueing it (too large, or bytes that do not hash
 * to the ids they claim), or null when it takes it. Runs on the caller's thread, so hashing scales
 * with the callers and a lying chunk fails its whole call before anything is queued.
 */
final class AppendChecks {

    private AppendChecks() {}

    static IOException refusal(ChunkData chunk, int maxChunkBytes) {
        if (chunk.storedLength() > maxChunkBytes) {
            return new IOException("chunk " + chunk.id() + " is " + chunk.storedLength()
                    + " bytes, more than this store's limit of " + maxChunkBytes + "; nothing was written");
        }
        boolean matches;
        try {
            matches = chunk.verify();
        } catch (RuntimeException e) {
            // No codec is banned here: whatever ChunkData can decode, the store accepts. A codec it
            // cannot decode yet (UnsupportedOperationException) or bytes it cannot decode are refused.
            return new IOException("cannot verify chunk " + chunk.id() + " with codec " + chunk.codec()
                    + ": " + e.getMessage() + "; nothing was written", e);
        }
        if (!matches) {
            return new ChunkCorruptException(chunk.id(), "chunk " + chunk.id()
                    + " refused: its bytes do not hash to its id; nothing of this append was written");
        }
        return null;
    }

    static IOException refusal(ChunkPack pack, int maxChunkBytes) {
        String what = "pack of " + pack.members().size() + " chunks from " + pack.members().get(0).id();
        if (SegmentRecord.MEMBER_BYTES * pack.members().size() + pack.storedLength() > maxChunkBytes) {
            return new IOException(what + " is " + pack.storedLength() + " bytes, more than this store's limit of "
                    + maxChunkBytes + "; nothing was written");
        }
        if (!pack.verify()) {
            return new ChunkCorruptException(pack.members().get(0).id(), what
                    + " refused: its frame does not decode to bytes that hash to its members' ids;"
                    + " nothing of this append was written");
        }
        return null;
    }
}
