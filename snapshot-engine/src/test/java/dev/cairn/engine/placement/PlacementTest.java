package dev.cairn.engine.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkId;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PlacementTest {

    private static final long SEED = 20240611L;
    private static final int IDS = 20_000;

    private static ChunkId randomId(Random random) {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return ChunkId.fromBytes(b);
    }

    @Test
    void theSameNodeListGivesTheSameAnswerWhateverTheInstance() {
        Placement one = new Placement(List.of("a", "b", "c", "d", "e"));
        Placement two = new Placement(List.of("a", "b", "c", "d", "e"));
        Random random = new Random(SEED);
        for (int i = 0; i < 1000; i++) {
            ChunkId id = randomId(random);
            assertEquals(one.nodesFor(id, 3), two.nodesFor(id, 3));
            assertEquals(one.nodesFor(id, 3), one.nodesFor(id, 3));
        }
    }

    @Test
    void theOrderOfTheNodeListDoesNotChangeTheAnswer() {
        Placement abc = new Placement(List.of("a", "b", "c", "d"));
        Placement dcba = new Placement(List.of("d", "c", "b", "a"));
        Random random = new Random(SEED);
        for (int i = 0; i < 1000; i++) {
            ChunkId id = randomId(random);
            assertEquals(abc.nodesFor(id, 4), dcba.nodesFor(id, 4));
        }
    }

    @Test
    void returnsDistinctNodesBestFirst() {
        Placement p = new Placement(List.of("a", "b", "c", "d", "e"));
        Random random = new Random(SEED);
        for (int i = 0; i < 1000; i++) {
            ChunkId id = randomId(random);
            List<String> three = p.nodesFor(id, 3);
            assertEquals(3, three.size());
            assertEquals(3, new HashSet<>(three).size());
            assertEquals(three.subList(0, 2), p.nodesFor(id, 2), "a smaller replica count is a prefix");
        }
    }

    @Test
    void threeReplicasOnThreeNodesIsEveryNode() {
        Placement p = new Placement(List.of("a", "b", "c"));
        ChunkId id = ChunkId.of(new byte[] {1});
        assertEquals(new HashSet<>(List.of("a", "b", "c")), new HashSet<>(p.nodesFor(id, 3)));
        assertEquals(3, p.nodesFor(id, 5).size(), "never more replicas than nodes");
    }

    @Test
    void refusesAnEmptyNodeList() {
        assertThrows(IllegalArgumentException.class, () -> new Placement(List.of()));
    }

    @Test
    void addingAFourthNodeMovesAboutAQuarterAndKeepsTheOrderOfTheOthers() {
        Placement three = new Placement(List.of("node-a", "node-b", "node-c"));
        Placement four = new Placement(List.of("node-a", "node-b", "node-c", "node-d"));
        Random random = new Random(SEED);
        int moved = 0;
        for (int i = 0; i < IDS; i++) {
            ChunkId id = randomId(random);
            List<String> before = three.nodesFor(id, 3);
            List<String> after = four.nodesFor(id, 4);
            if (!after.get(0).equals(before.get(0))) {
                moved++;
                assertEquals("node-d", after.get(0), "only the new node can take a chunk's first place (seed " + SEED + ")");
            }
            List<String> oldNodesAfter = after.stream().filter(n -> !n.equals("node-d")).toList();
            assertEquals(before, oldNodesAfter, "the relative order of the old nodes is kept (seed " + SEED + ")");
        }
        double fraction = (double) moved / IDS;
        assertTrue(fraction > 0.20 && fraction < 0.30, "moved fraction " + fraction + " (seed " + SEED + ")");
    }

    @Test
    void firstChoicesSpreadEvenlyOverTheNodes() {
        List<String> nodes = List.of("a", "b", "c", "d", "e");
        Placement p = new Placement(nodes);
        Map<String, Integer> first = new HashMap<>();
        Map<String, Integer> any = new HashMap<>();
        Random random = new Random(SEED);
        for (int i = 0; i < IDS; i++) {
            List<String> chosen = p.nodesFor(randomId(random), 3);
            first.merge(chosen.get(0), 1, Integer::sum);
            chosen.forEach(n -> any.merge(n, 1, Integer::sum));
        }
        for (String n : nodes) {
            double firstShare = first.getOrDefault(n, 0) / (double) IDS;
            double anyShare = any.getOrDefault(n, 0) / (3.0 * IDS);
            assertTrue(Math.abs(firstShare - 0.2) < 0.02, n + " is first for " + firstShare + " (seed " + SEED + ")");
            assertTrue(Math.abs(anyShare - 0.2) < 0.02, n + " holds " + anyShare + " of replicas (seed " + SEED + ")");
        }
    }

    @Test
    void placementWithoutZonesIsUnchangedFromBeforeZonesExisted() {
        // Pinned results of the zone-less placement: chunks already stored depend on them.
        List<String> nodes = List.of("node-1", "node-2", "node-3", "node-4", "node-5");
        List<List<String>> expected = List.of(
                List.of("node-1", "node-2", "node-4"), List.of("node-5", "node-1", "node-4"),
                List.of("node-1", "node-2", "node-5"), List.of("node-1", "node-4", "node-5"),
                List.of("node-3", "node-4", "node-5"), List.of("node-1", "node-5", "node-3"));
        Map<String, String> noZones = new LinkedHashMap<>();
        Map<String, String> oneZone = new LinkedHashMap<>();
        nodes.forEach(n -> {
            noZones.put(n, Placement.NO_ZONE);
            oneZone.put(n, "zone-a");
        });
        for (int i = 0; i < expected.size(); i++) {
            ChunkId id = ChunkId.of(new byte[] {(byte) i});
            assertEquals(expected.get(i), new Placement(nodes).nodesFor(id, 3));
            assertEquals(expected.get(i), new Placement(noZones).nodesFor(id, 3));
            assertEquals(expected.get(i), new Placement(oneZone).nodesFor(id, 3), "one zone is the same as none");
        }
    }

    private static Map<String, String> zoned(String... idAndZone) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < idAndZone.length; i += 2) {
            m.put(idAndZone[i], idAndZone[i + 1]);
        }
        return m;
    }

    @Test
    void replicasLandInDistinctZonesWhenThereAreAtLeastNZones() {
        Placement p = new Placement(zoned("a1", "a", "a2", "a", "a3", "a", "b1", "b", "b2", "b", "c1", "c"));
        Random random = new Random(SEED);
        for (int i = 0; i < IDS; i++) {
            ChunkId id = randomId(random);
            List<String> three = p.nodesFor(id, 3);
            assertEquals(3, new HashSet<>(three.stream().map(p::zoneOf).toList()).size(), three + " (seed " + SEED + ")");
            List<String> all = p.nodesFor(id, 6);
            assertEquals(three, all.subList(0, 3), "a smaller replica count is a prefix");
            assertEquals(6, new HashSet<>(all).size());
        }
    }

    @Test
    void withFewerZonesThanReplicasEveryZoneIsUsedBeforeOneRepeats() {
        Placement p = new Placement(zoned("a1", "a", "a2", "a", "a3", "a", "b1", "b"));
        Random random = new Random(SEED);
        for (int i = 0; i < 2000; i++) {
            List<String> three = p.nodesFor(randomId(random), 3);
            assertTrue(three.contains("b1"), "the only node of zone b holds a copy of every chunk: " + three);
        }
    }

    @Test
    void addingANodeToAZonedClusterMovesOnlyTheCopiesItTakes() {
        Placement before = new Placement(zoned("a1", "a", "a2", "a", "b1", "b", "b2", "b", "c1", "c", "c2", "c"));
        Placement after = new Placement(zoned("a1", "a", "a2", "a", "b1", "b", "b2", "b", "c1", "c", "c2", "c",
                "a3", "a"));
        Random random = new Random(SEED);
        int movedCopies = 0;
        for (int i = 0; i < IDS; i++) {
            ChunkId id = randomId(random);
            List<String> old = before.nodesFor(id, 3);
            List<String> now = after.nodesFor(id, 3);
            if (!new HashSet<>(old).equals(new HashSet<>(now))) {
                movedCopies++;
                assertTrue(now.contains("a3"), "a copy moves only onto the new node: " + old + " -> " + now);
                List<String> kept = new java.util.ArrayList<>(old);
                kept.retainAll(now);
                assertEquals(2, kept.size(), "exactly one copy moves: " + old + " -> " + now);
            }
        }
        // Zone a holds a third of all copies; the new node takes a third of zone a's: 1/9.
        double fraction = movedCopies / (3.0 * IDS);
        assertTrue(fraction > 0.09 && fraction < 0.13, "moved fraction of copies " + fraction + " (seed " + SEED + ")");
    }

    @Test
    void addingAFifthNodeMovesAFifthOfTheCopies() {
        Placement fourNodes = new Placement(List.of("node-a", "node-b", "node-c", "node-x"));
        Placement fiveNodes = new Placement(List.of("node-a", "node-b", "node-c", "node-x", "node-d"));
        Random random = new Random(SEED);
        int movedCopies = 0;
        for (int i = 0; i < IDS; i++) {
            ChunkId id = randomId(random);
            List<String> old = fourNodes.nodesFor(id, 3);
            List<String> now = fiveNodes.nodesFor(id, 3);
            movedCopies += (int) now.stream().filter(n -> !old.contains(n)).count();
        }
        // N=3 of 5 nodes: the new node takes 1/5 of all copies, and nothing else moves.
        double fraction = movedCopies / (3.0 * IDS);
        assertTrue(fraction > 0.17 && fraction < 0.23, "moved fraction of copies " + fraction + " (seed " + SEED + ")");
    }
}
