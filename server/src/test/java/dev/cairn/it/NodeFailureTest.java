package dev.cairn.it;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a 3-node cluster (N=3, N_W=N_R=2) does when nodes go away. */
class NodeFailureTest {

    @TempDir
    Path dir;

    @Test
    void oneNodeDownStillServesAndTwoDownRefusesPutsWithAQuorumError() throws Exception {
        byte[] before = TestImages.random(1, 3 * 1024 * 1024);
        byte[] during = TestImages.random(2, 2 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            try (CairnClient client = cluster.client()) {
                client.put("before", new ByteArrayInputStream(before));

                assertEquals(0, CliTest.cairn("admin", "health", "--cluster", cluster.endpoints()).code());

                cluster.stopNode(2);
                // If node-3 led, the other two elect a new leader first; health without one is 2.
                cluster.awaitRunningLeader();
                CliTest.Run degraded = CliTest.cairn("admin", "health", "--json", "--cluster", cluster.endpoints());
                assertEquals(1, degraded.code(), degraded.out());
                assertTrue(degraded.lastLine().contains("\"status\":\"degraded\""), degraded.lastLine());
                // Chunks whose first replica is the stopped node are read from the next one.
                assertArrayEquals(before, TestImages.read(client, "before"));
                client.put("during", new ByteArrayInputStream(during));
                assertArrayEquals(during, TestImages.read(client, "during"));

                cluster.stopNode(1);
                CairnException.QuorumUnavailable e = assertThrows(CairnException.QuorumUnavailable.class,
                        () -> client.put("after", new ByteArrayInputStream(TestImages.random(3, 100_000))));
                // A put opens its upload session in the catalog first, so the Raft majority is what it misses.
                assertTrue(e.getMessage().contains("metadata quorum unavailable") && e.getMessage().contains("1 of 3 nodes"),
                        e.getMessage());
                assertEquals(2, CliTest.cairn("admin", "health", "--cluster", cluster.endpoints()).code());
            }
        }
    }
}
