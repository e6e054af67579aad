package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class QuorumTest {

    @Test
    void defaultForThreeOrMoreNodesIsThreeReplicasWithMajorityQuorums() {
        assertEquals(new Quorum(3, 2, 2), Quorum.defaultFor(3));
        assertEquals(new Quorum(3, 2, 2), Quorum.defaultFor(5));
        assertEquals(new Quorum(3, 2, 2), Quorum.defaultFor(100));
    }

    @Test
    void defaultForOneNodeIsOneReplicaWithQuorumsOfOne() {
        assertEquals(new Quorum(1, 1, 1), Quorum.defaultFor(1));
    }

    @Test
    void defaultForTwoNodesNeedsBothForWritesAndReads() {
        assertEquals(new Quorum(2, 2, 2), Quorum.defaultFor(2));
    }

    @Test
    void refusesQuorumsWhoseReadAndWriteDoNotOverlap() {
        ConfigException e = assertThrows(ConfigException.class, () -> new Quorum(3, 2, 1));
        String m = e.getMessage();
        assertTrue(m.contains("N_R + N_W > N"), m);
        assertTrue(m.contains("N_R=1"), m);
        assertTrue(m.contains("N_W=2"), m);
        assertTrue(m.contains("N=3"), m);
    }

    @Test
    void refusesWriteQuorumThatIsNotAMajority() {
        // N_R + N_W = 5 > 4 passes the first rule, so only the majority rule can refuse it.
        ConfigException e = assertThrows(ConfigException.class, () -> new Quorum(4, 2, 3));
        String m = e.getMessage();
        assertTrue(m.contains("N_W > N/2"), m);
        assertTrue(m.contains("N_W=2"), m);
        assertTrue(m.contains("N/2=2"), m);
        assertTrue(m.contains("at least 3"), m);
    }

    @Test
    void acceptsQuorumsThatOverlap() {
        Quorum q = new Quorum(5, 3, 3);
        assertEquals(5, q.replicas());
        assertEquals(3, q.writeQuorum());
        assertEquals(3, q.readQuorum());
        new Quorum(3, 3, 1);
    }

    @Test
    void refusesQuorumsOutsideOneToReplicas() {
        assertTrue(assertThrows(ConfigException.class, () -> new Quorum(0, 1, 1)).getMessage().contains("replicas (N)"));
        assertTrue(assertThrows(ConfigException.class, () -> new Quorum(3, 4, 2)).getMessage().contains("writeQuorum"));
        assertTrue(assertThrows(ConfigException.class, () -> new Quorum(3, 2, 0)).getMessage().contains("readQuorum"));
    }
}
