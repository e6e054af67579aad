package dev.cairn.server.store;

import dev.cairn.engine.ChunkId;
import java.io.IOException;
import java.util.List;

/**
 * Marks the chunks of an append before the store writes them, and keeps them marked until the
 * append is durable or failed: the garbage collector's side of the write path (docs/gc.md; the
 * GC's {@code GcNode} is the one in production). {@link ChunkStore#append(List, AppendMarker)}
 * calls it.
 */
public interface AppendMarker {

    /**
     * Marks {@code ids}, then returns the hold that keeps the marks from being swept; the store
     * releases it once the append's future completes. Throwing means nothing was marked, and the
     * store appends nothing.
     */
    Hold mark(List<ChunkId> ids) throws IOException;

    /** What {@link #mark} holds for one append; released exactly once. */
    interface Hold {
        void release();
    }
}
