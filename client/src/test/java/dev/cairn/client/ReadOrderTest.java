package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Which replica a fetch asks first: one node per placement set and fetch, taken in turn; the node a
 * client runs inside, whenever it holds the chunk.
 */
class ReadOrderTest {

    @Test
    void chunksWithTheSameNodesAreAskedOfTheSameNodeFirstWhateverTheirRank() {
        List<String> a = List.of("node-2", "node-0", "node-1");
        List<String> b = List.of("node-1", "node-2", "node-0");
        for (int turn = 0; turn < 6; turn++) {
            assertEquals(ChunkReader.firstAsked(a, turn, null).get(0), ChunkReader.firstAsked(b, turn, null).get(0));
        }
    }

    @Test
    void theFirstNodeTurnsFromFetchToFetchAndTheRestKeepPlacementOrder() {
        List<String> placement = List.of("node-2", "node-0", "node-1");
        Set<String> firsts = new HashSet<>();
        for (int turn = 0; turn < 3; turn++) {
            List<String> order = ChunkReader.firstAsked(placement, turn, null);
            firsts.add(order.get(0));
            assertEquals(Set.copyOf(placement), Set.copyOf(order));
            List<String> rest = placement.stream().filter(n -> !n.equals(order.get(0))).toList();
            assertEquals(rest, order.subList(1, 3));
        }
        assertEquals(3, firsts.size(), "three fetches in a row start at three different nodes");
        assertEquals(List.of("node-0", "node-2", "node-1"), ChunkReader.firstAsked(placement, 0, null));
        assertEquals(List.of("node-1"), ChunkReader.firstAsked(List.of("node-1"), 5, null));
    }

    @Test
    void aClientInsideANodeAsksThatNodeFirstWheneverItIsAPlacementNode() {
        List<String> placement = List.of("node-2", "node-0", "node-1");
        for (int turn = 0; turn < 3; turn++) {
            assertEquals(List.of("node-1", "node-2", "node-0"), ChunkReader.firstAsked(placement, turn, "node-1"));
        }
        // Not a placement node of this chunk: the turns go on as for any client.
        assertEquals(ChunkReader.firstAsked(placement, 1, null), ChunkReader.firstAsked(placement, 1, "node-3"));
    }
}
