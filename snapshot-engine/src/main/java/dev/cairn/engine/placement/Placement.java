package dev.cairn.engine.placement;

import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rendezvous (highest random weight) placement: a chunk's replicas are the {@code replicas}
 * nodes with the highest score for (chunk, node). Every party computes the same answer from the
 * same node list, and adding a node moves only the chunks for which the new node wins.
 *
 * <p>Zone-aware when nodes carry zones: walking the nodes in score order, the best node of each
 * zone not used yet comes first, then the remaining nodes in score order. A chunk's N replicas
 * therefore sit in N distinct zones whenever there are at least N zones. Nodes without a zone
 * share one unnamed zone, so a cluster without zones (one zone) gets exactly the plain score
 * order: chunks stored before zones existed keep their placement.
 */
public final class Placement {

    /** The zone of a node that has none. */
    public static final String NO_ZONE = "";

    private final List<String> nodeIds;
    private final long[] nodeHashes;
    private final String[] zones;
    private final boolean zoned;

    /** Placement over nodes without zones. */
    public Placement(List<String> nodeIds) {
        this(withoutZones(nodeIds));
    }

    /**
     * Placement over nodes with zones: node id to zone ({@link #NO_ZONE} or null for none). The
     * map's order does not matter.
     */
    public Placement(Map<String, String> zoneByNode) {
        if (zoneByNode.isEmpty()) {
            throw new IllegalArgumentException("placement over no nodes");
        }
        this.nodeIds = List.copyOf(zoneByNode.keySet());
        this.nodeHashes = new long[nodeIds.size()];
        this.zones = new String[nodeIds.size()];
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < nodeIds.size(); i++) {
            nodeHashes[i] = fnv1a64(nodeIds.get(i).getBytes(StandardCharsets.UTF_8));
            String zone = zoneByNode.get(nodeIds.get(i));
            zones[i] = zone == null ? NO_ZONE : zone;
            distinct.add(zones[i]);
        }
        this.zoned = distinct.size() > 1;
    }

    private static Map<String, String> withoutZones(List<String> nodeIds) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String id : nodeIds) {
            if (m.put(id, NO_ZONE) != null) {
                throw new IllegalArgumentException("node " + id + " appears twice in the placement list");
            }
        }
        return m;
    }

    public List<String> nodeIds() {
        return nodeIds;
    }

    /** The zone placement counts {@code nodeId} in ({@link #NO_ZONE} when it has none). */
    public String zoneOf(String nodeId) {
        int i = nodeIds.indexOf(nodeId);
        if (i < 0) {
            throw new IllegalArgumentException("node " + nodeId + " is not a placement target");
        }
        return zones[i];
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
        if (zoned) {
            order = zonesFirst(order);
        }
        List<String> result = new ArrayList<>(replicas);
        for (int i = 0; i < Math.min(replicas, order.size()); i++) {
            result.add(nodeIds.get(order.get(i)));
        }
        return result;
    }

    /** The best node of each zone in score order, then every other node in score order. */
    private List<Integer> zonesFirst(List<Integer> byScore) {
        List<Integer> firsts = new ArrayList<>(byScore.size());
        List<Integer> rest = new ArrayList<>(byScore.size());
        Set<String> used = new HashSet<>();
        for (int i : byScore) {
            (used.add(zones[i]) ? firsts : rest).add(i);
        }
        firsts.addAll(rest);
        return firsts;
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
