package dev.cairn.server.net;

import static dev.cairn.server.net.Answers.io;

import dev.cairn.engine.ChunkId;
import dev.cairn.server.store.ChunkStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Chunks this node answered "corrupt" for recently: a reader that then sends a verified copy
 * (read-repair) replaces the bad one, which a plain append would keep as "already present".
 * Bounded; a chunk that falls out is left to scrub. Thread-safe.
 */
final class CorruptChunksSeen {

    static final int MAX_CORRUPT_REMEMBERED = 4096;

    private final ChunkStore store;
    private final Set<ChunkId> seen = Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ChunkId, Boolean> eldest) {
            return size() > MAX_CORRUPT_REMEMBERED;
        }
    });

    CorruptChunksSeen(ChunkStore store) {
        this.store = store;
    }

    /** This node just answered "corrupt" for {@code id}. */
    void reported(ChunkId id) {
        synchronized (seen) {
            seen.add(id);
        }
    }

    /**
     * Whether this node has answered "corrupt" for a chunk not yet replaced: nearly never, so a
     * store checks this once per request before listing its chunks' ids for {@link #replace}.
     */
    boolean any() {
        synchronized (seen) {
            return !seen.isEmpty();
        }
    }

    /**
     * Drops {@code ids}' bad copies that this node reported corrupt, once {@code verified} says the
     * new bytes are good, so the append that follows stores the good one (as scrub does: the
     * verified replacement is in hand before the bad copy goes).
     */
    void replace(List<ChunkId> ids, BooleanSupplier verified) {
        List<ChunkId> replacing = new ArrayList<>();
        synchronized (seen) {
            if (seen.isEmpty()) {
                return;
            }
            for (ChunkId id : ids) {
                if (seen.remove(id)) {
                    replacing.add(id);
                }
            }
        }
        if (!replacing.isEmpty() && verified.getAsBoolean()) {
            for (ChunkId id : replacing) {
                io(() -> store.delete(id));
            }
        }
    }
}
