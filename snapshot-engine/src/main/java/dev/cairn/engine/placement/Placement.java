package dev.cairn.engine.placement;

import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Rendezvous (highest random weight) placement: a chunk's replicas are the {@code replicas}
 * nodes with the highest score for (chunk, node). Every party computes the same answer from the
 * same node list, and adding a node moves only the chunks for which the new node wins.
 */
public final class Placement {

    private final List<String> nodeIds;
    private final long[] nodeHashes;

    public Placement(List<String> nodeIds) {
        if (nodeIds.isEmpty()) {
            throw new IllegalArgumentException("placement over no nodes");
        }
        this.nodeIds = List.copyOf(nodeIds);
        this.nodeHashes = new long[nodeIds.size()];
        for (int i = 0; i < nodeIds.size(); i++) {
            nodeHashes[i] = fnv1a64(nodeIds.get(i).getBytes(StandardCharsets.UTF_8));
        }
    }

    public List<String> nodeIds() {
        return nodeIds;
    }

    /** The {@code replicas} nodes for this chunk, best first: the order readers try them in. */
    public List<String> nodesFor(ChunkId id, int replicas) {
        long chunkHash = ByteBuffer.wrap(id.toBytes()).getLong();
        List<Integer> order = new ArrayList<>(nodeIds.size());
        long[] scores = new long[nodeIds.size()];
        for (int i = 0; i < nodeIds.size(); i++) {
            scores[i] = mix64(chunkHash ^ nodeHashes[i]);
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingLong(i -> scores[i]).reversed().thenComparing(nodeIds::get));
        List<String> result = new ArrayList<>(replicas);
        for (int i = 0; i < Math.min(replicas, order.size()); i++) {
            result.add(nodeIds.get(order.get(i)));
        }
        return result;
    }

    private static long fnv1a64(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** The finalizer of SplitMix64: spreads every input bit over the whole score. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
