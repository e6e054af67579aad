package dev.cairn.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a node says at start about its transport security. */
class TlsStartWarningTest {

    private final NodeConfig config = new NodeConfig("node-1", Path.of("/tmp/n1"), Quorum.defaultFor(1),
            List.of(new NodeAddress("node-1", "10.0.0.5", 7400, 7401, 7402)), Limits.defaults());

    @Test
    void aNodeWithoutTlsNamesEveryPortItExposesInPlainText() {
        String line = CairnServer.tlsOffWarning(config);
        assertTrue(line.startsWith("TLS IS OFF on node node-1"), line);
        for (String port : List.of("10.0.0.5:7400", "10.0.0.5:7402", "10.0.0.5:7401")) {
            assertTrue(line.contains(port), port + " in: " + line);
        }
    }
}
