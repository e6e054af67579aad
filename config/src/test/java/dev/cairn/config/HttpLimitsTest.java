package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code http} section of a node's config: defaults, a round trip, and refusals that name the field. */
class HttpLimitsTest {

    @TempDir
    Path dir;

    private static final String ONE_NODE = "nodeId: a\ndataDir: /var/lib/cairn\nnodes:\n"
            + "  - {id: a, host: 127.0.0.1, port: 7400, raftPort: 7500, httpPort: 7600}\n";

    @Test
    void aConfigWithoutAnHttpSectionTakesTheDefaults() throws IOException {
        Path file = Files.writeString(dir.resolve("cairn.yaml"), ONE_NODE);
        HttpLimits http = ConfigFiles.loadNode(file).http();
        assertEquals(HttpLimits.defaults(), http);
        assertEquals(Duration.ofHours(1), http.requestDeadline());
        assertEquals(64 * 1024, http.minBytesPerSecond());
    }

    @Test
    void fieldsGivenAreTakenAndTheRestDefault() throws IOException {
        Path file = Files.writeString(dir.resolve("cairn.yaml"), ONE_NODE
                + "http:\n  requestDeadlineSeconds: 600\n  minBytesPerSecond: 0\n  maxConcurrentTransfers: 2\n");
        HttpLimits http = ConfigFiles.loadNode(file).http();
        assertEquals(new HttpLimits(Duration.ofMinutes(10), 0, HttpLimits.DEFAULT_RATE_WINDOW, HttpLimits.DEFAULT_WRITE_IDLE,
                HttpLimits.DEFAULT_IDLE, 2), http);
    }

    @Test
    void writeNodeThenLoadNodeKeepsTheHttpLimits() throws IOException {
        HttpLimits http = new HttpLimits(Duration.ofSeconds(90), 1000, Duration.ofSeconds(5), Duration.ofSeconds(7),
                Duration.ofSeconds(11), 3, 17, false);
        NodeConfig config = new NodeConfig("a", dir.resolve("data").toAbsolutePath(), Quorum.defaultFor(1),
                List.of(new NodeAddress("a", "127.0.0.1", 7400, 7500, 7600)), Limits.defaults(), false).withHttp(http);
        Path file = dir.resolve("written.yaml");
        ConfigFiles.writeNode(config, file);
        assertEquals(config, ConfigFiles.loadNode(file));
    }

    @Test
    void aLimitOutOfRangeIsRefusedWithItsName() throws IOException {
        Path file = Files.writeString(dir.resolve("cairn.yaml"), ONE_NODE + "http:\n  rateWindowSeconds: 0\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.loadNode(file));
        assertTrue(e.getMessage().contains("http.rateWindowSeconds must be at least 1 second, got 0"), e.getMessage());

        Path many = Files.writeString(dir.resolve("many.yaml"), ONE_NODE + "http:\n  maxConcurrentTransfers: 0\n");
        e = assertThrows(ConfigException.class, () -> ConfigFiles.loadNode(many));
        assertTrue(e.getMessage().contains("http.maxConcurrentTransfers must be 1 to 1024"), e.getMessage());
    }

    @Test
    void theConnectionCapIsReadAndBoundsChecked() throws IOException {
        assertEquals(256, ConfigFiles.loadNode(Files.writeString(dir.resolve("d.yaml"), ONE_NODE)).http().maxConnections());
        Path file = Files.writeString(dir.resolve("cap.yaml"), ONE_NODE + "http:\n  maxConnections: 40\n");
        assertEquals(40, ConfigFiles.loadNode(file).http().maxConnections());

        for (String bad : List.of("0", "65537", "-1")) {
            Path f = Files.writeString(dir.resolve("bad.yaml"), ONE_NODE + "http:\n  maxConnections: " + bad + "\n");
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.loadNode(f));
            assertTrue(e.getMessage().contains("http.maxConnections must be 1 to 65536, got " + bad), e.getMessage());
        }
    }

    @Test
    void monitoringIsPublicUnlessTheConfigSaysFalse() throws IOException {
        assertTrue(ConfigFiles.loadNode(Files.writeString(dir.resolve("d.yaml"), ONE_NODE)).http().publicMonitoring());
        Path file = Files.writeString(dir.resolve("private.yaml"), ONE_NODE + "http:\n  publicMonitoring: false\n");
        assertEquals(false, ConfigFiles.loadNode(file).http().publicMonitoring());

        Path quoted = Files.writeString(dir.resolve("quoted.yaml"), ONE_NODE + "http:\n  publicMonitoring: \"no\"\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.loadNode(quoted));
        assertTrue(e.getMessage().contains("publicMonitoring"), e.getMessage());
    }
}
