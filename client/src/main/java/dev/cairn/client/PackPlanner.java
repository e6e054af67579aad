package dev.cairn.client;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkPack;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which of the chunks a batch must send travel together in packs, and which alone. A pack
 * travels whole to each of its nodes, so only chunks with the same placement nodes share one;
 * within those, consecutive chunks (the image's order, where neighbouring pages are alike) fill a
 * pack until the next would take it past {@link ChunkPack#MAX_RAW_BYTES} or
 * {@link ChunkPack#MAX_MEMBERS}.
 */
final class PackPlanner {

    private PackPlanner() {}

    /**
     * Positions in the planned list: each pack has at least two members, in the list's order;
     * packs are listed as they closed, singles in ascending order.
     */
    record Plan(List<List<Integer>> packs, List<Integer> singles) {}

    /**
     * What decides which chunks may share a pack: the set of placement nodes. The ranked list
     * would not do: the same nodes in another order are the same nodes (with N equal to the node
     * count, every chunk has them all, each in its own order).
     */
    static Set<String> placementKey(List<String> nodes) {
        return Set.copyOf(nodes);
    }

    /** A chunk that may join a pack: RAW (not encoded yet) and 1..{@link ChunkPack#MAX_MEMBER_BYTES} bytes. */
    static boolean packable(ChunkData chunk) {
        return chunk.codec() == ChunkCodec.RAW && ChunkPack.mayJoin(chunk.rawLength());
    }

    /**
     * Plans {@code chunks}, in order; {@code placements.get(i)} is chunk i's {@link #placementKey}
     * (or another value whose equality means "the same nodes").
     */
    static Plan plan(List<ChunkData> chunks, List<?> placements) {
        if (chunks.size() != placements.size()) {
            throw new IllegalArgumentException(chunks.size() + " chunks but " + placements.size() + " placements");
        }
        List<List<Integer>> packs = new ArrayList<>();
        List<Integer> singles = new ArrayList<>();
        Map<Object, Open> open = new LinkedHashMap<>();
        for (int i = 0; i < chunks.size(); i++) {
            ChunkData c = chunks.get(i);
            if (!packable(c)) {
                singles.add(i);
                continue;
            }
            Object key = Objects.requireNonNull(placements.get(i), "placement");
            Open pack = open.get(key);
            if (pack != null && ChunkPack.isFull(pack.members.size(), pack.rawBytes, c.rawLength())) {
                close(pack, packs, singles);
                pack = null;
            }
            if (pack == null) {
                pack = new Open();
                open.put(key, pack);
            }
            pack.members.add(i);
            pack.rawBytes += c.rawLength();
        }
        open.values().forEach(pack -> close(pack, packs, singles));
        singles.sort(null);
        return new Plan(packs, singles);
    }

    /** A pack being filled. */
    private static final class Open {
        final List<Integer> members = new ArrayList<>();
        int rawBytes;
    }

    private static void close(Open pack, List<List<Integer>> packs, List<Integer> singles) {
        if (pack.members.size() == 1) {
            singles.add(pack.members.get(0)); // a pack of one would only add a frame around the chunk
        } else {
            packs.add(List.copyOf(pack.members));
        }
    }
}
