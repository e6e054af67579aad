package dev.cairn.engine.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkId;
import java.util.HashMap;
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
}
