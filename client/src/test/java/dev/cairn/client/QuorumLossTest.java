package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.ClientConfig;
import dev.cairn.engine.Clock;
import dev.cairn.protocol.Messages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A quorum failure is retold with the nodes that do not answer, against fake nodes on loopback sockets. */
class QuorumLossTest {

    private final List<FakeNode> nodes = new ArrayList<>();
    private Cluster cluster;

    @BeforeEach
    void start() throws Exception {
        List<Messages.Peer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            FakeNode node = new FakeNode("n" + i);
            nodes.add(node);
            peers.add(node.peer());
        }
        Messages.ClusterInfo info = new Messages.ClusterInfo("n0", 3, 2, 2, peers);
        nodes.forEach(n -> n.serve(info));
        cluster = Cluster.connect(new ClientConfig(List.of(nodes.get(0).endpoint()), Duration.ofSeconds(5)), null, Clock.SYSTEM);
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
        for (FakeNode n : nodes) {
            n.close();
        }
    }

    @Test
    void twoOfThreeNodesDownAreNamedWithWhatThePutNeedsAndWhatToDo() throws Exception {
        String n1 = nodes.get(1).endpoint();
        nodes.get(1).close();
        nodes.get(2).close();
        CairnException.QuorumUnavailable original = new CairnException.QuorumUnavailable(
                "metadata quorum unavailable: OPEN_SESSION failed: ConnectException: finishConnect(..) failed");
        CairnException.QuorumUnavailable told = QuorumLoss.explain(cluster, original, "put");
        String m = told.getMessage();
        assertTrue(m.startsWith("cannot reach node n1 at " + n1 + " (connection refused); cannot reach node n2 at "), m);
        assertTrue(m.contains("metadata quorum unavailable, 1 of 3 nodes answer; the put needs 2 of 3 nodes (N_W=2)"), m);
        assertTrue(m.endsWith("start the nodes or check --cluster"), m);
        assertFalse(m.contains("Exception") || m.contains("finishConnect"), m);
        assertSame(original, told.getCause(), "the node's own answer stays the cause, for --verbose");
    }

    @Test
    void withEnoughNodesAnsweringTheFailureIsLeftAsItWas() throws Exception {
        nodes.get(2).close();
        CairnException.QuorumUnavailable original = new CairnException.QuorumUnavailable("quorum not met: node n1: disk full");
        assertSame(original, QuorumLoss.explain(cluster, original, "put"), "2 of 3 answer: N_W=2 and a majority are there");
    }
}
