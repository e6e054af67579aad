package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.config.NodeAddress;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A put that cannot reach its nodes says which, why in plain words, and what to do: no Java or Netty text. */
class ClientErrorMessageTest {

    @TempDir
    Path dir;

    @Test
    void aPutWithTwoOfThreeNodesDownNamesTheNodesItCannotReach() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("before", new ByteArrayInputStream(TestImages.random(1, 100_000)));
            cluster.stopNode(1);
            cluster.stopNode(2);
            NodeAddress down = cluster.config(0).nodes().get(1);

            CairnException.QuorumUnavailable e = assertThrows(CairnException.QuorumUnavailable.class,
                    () -> client.put("after", new ByteArrayInputStream(TestImages.random(2, 100_000))));
            String m = e.getMessage();
            assertTrue(m.contains("cannot reach node node-2 at " + down.endpoint() + " (connection refused)"), m);
            assertTrue(m.contains("cannot reach node node-3 at "), m);
            assertTrue(m.contains("the put needs 2 of 3 nodes (N_W=2)") && m.contains("start the nodes or check --cluster"), m);
            assertFalse(m.contains("Exception") || m.contains("finishConnect") || m.contains("OPEN_SESSION"), m);

            Path source = Files.writeString(dir.resolve("small"), "x".repeat(1000));
            CliTest.Run cli = CliTest.cairn("put", "--cluster", cluster.endpoints(), "cli-after", source.toString());
            List<String> errors = cli.errLines("cairn: ");
            assertEquals(1, errors.size(), cli.err());
            assertTrue(errors.get(0).contains("cannot reach node node-2 at " + down.endpoint()), errors.get(0));
            assertFalse(errors.get(0).contains("Exception") || errors.get(0).contains("finishConnect"), errors.get(0));
        }
    }
}
