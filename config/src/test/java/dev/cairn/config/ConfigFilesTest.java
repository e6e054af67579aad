package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFilesTest {

    @TempDir
    Path dir;

    private static final String THREE_NODES = """
            nodes:
              - {id: a, host: 127.0.0.1, port: 7400, raftPort: 7500, httpPort: 7600}
              - {id: b, host: 127.0.0.1, port: 7401, raftPort: 7501, httpPort: 7601}
              - {id: c, host: 127.0.0.1, port: 7402, raftPort: 7502, httpPort: 7602}
            """;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("cairn.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private ConfigException refused(String yaml) throws IOException {
        Path file = write(yaml);
        return assertThrows(ConfigException.class, () -> ConfigFiles.loadNode(file));
    }

    @Test
    void writeNodeThenLoadNodeGivesAnEqualConfig() throws IOException {
        NodeConfig config = new NodeConfig("b", dir.resolve("data-b").toAbsolutePath(), new Quorum(3, 3, 1),
                List.of(new NodeAddress("a", "10.0.0.1", 7400, 7500, 7600),
                        new NodeAddress("b", "10.0.0.2", 7400, 7500, 7600),
                        new NodeAddress("c", "node-c.example", 7400, 7500, 7600)),
                new Limits(8 << 20, 1 << 20));
        Path file = dir.resolve("written.yaml");
        ConfigFiles.writeNode(config, file);
        assertEquals(config, ConfigFiles.loadNode(file));
    }

    @Test
    void writeNodeThenLoadNodeKeepsIdsAndHostsThatLookLikeYamlScalars() throws IOException {
        // Node ids may be all digits or YAML words; written unquoted they would read back as numbers or booleans.
        List<String> ids = List.of("1", "010", "0x1F", "1e3", "1_000", "yes", "no", "on", "off", "y", "n", "true", "null", "0o17", "12_3");
        List<NodeAddress> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            nodes.add(new NodeAddress(ids.get(i), ids.get(i), 1000 + i, 2000 + i, 3000 + i));
        }
        NodeConfig config = new NodeConfig("010", dir.resolve("data").toAbsolutePath(), Quorum.defaultFor(ids.size()),
                nodes, Limits.defaults());
        Path file = dir.resolve("scalars.yaml");
        ConfigFiles.writeNode(config, file);
        assertEquals(config, ConfigFiles.loadNode(file));
    }

    @Test
    void missingOptionalFieldsTakeTheirDefaults() throws IOException {
        NodeConfig c = ConfigFiles.loadNode(write("nodeId: a\ndataDir: /var/lib/cairn\n" + THREE_NODES));
        assertEquals(Quorum.defaultFor(3), c.quorum());
        assertEquals(Limits.defaults(), c.limits());
        assertEquals(Path.of("/var/lib/cairn"), c.dataDir());
        assertEquals(3, c.nodes().size());
    }

    @Test
    void aRelativeDataDirResolvesAgainstTheFilesFolder() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("etc"));
        Path file = sub.resolve("cairn.yaml");
        Files.writeString(file, "nodeId: a\ndataDir: ../var/./data\n" + THREE_NODES);
        NodeConfig c = ConfigFiles.loadNode(file);
        assertEquals(dir.toAbsolutePath().resolve("var/data"), c.dataDir());
        assertTrue(c.dataDir().isAbsolute());
    }

    @Test
    void anUnknownFieldIsRefusedByName() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nreplicaCount: 3\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("unknown field 'replicaCount'"), e.getMessage());
        assertTrue(e.getMessage().contains("replicas"), "lists the known fields: " + e.getMessage());
    }

    @Test
    void anUnknownFieldInsideANodeIsRefusedByName() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nnodes:\n  - {id: a, host: h, port: 1, raftPort: 2, httpPort: 3, grpcPort: 4}\n");
        assertTrue(e.getMessage().contains("unknown field 'grpcPort'"), e.getMessage());
    }

    @Test
    void aStringForAPortIsRefusedNamingTheField() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nnodes:\n  - {id: a, host: h, port: seventy, raftPort: 2, httpPort: 3}\n");
        assertTrue(e.getMessage().contains("bad value for 'nodes[0].port'"), e.getMessage());
    }

    @Test
    void aStringForAQuorumIsRefusedNamingTheField() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nwriteQuorum: most\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("bad value for 'writeQuorum'"), e.getMessage());
    }

    @Test
    void aMissingNodeIdIsRefused() throws IOException {
        ConfigException e = refused("dataDir: d\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("nodeId is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("cairn.yaml"), "names the file: " + e.getMessage());
    }

    @Test
    void aNodeIdThatIsNotAmongTheNodesIsRefused() throws IOException {
        ConfigException e = refused("nodeId: d\ndataDir: d\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("nodeId 'd' is not one of the nodes"), e.getMessage());
    }

    @Test
    void twoNodesOnTheSameHostAndPortAreRefused() throws IOException {
        ConfigException e = refused("""
                nodeId: a
                dataDir: d
                nodes:
                  - {id: a, host: h, port: 7400, raftPort: 7500, httpPort: 7600}
                  - {id: b, host: h, port: 7401, raftPort: 7500, httpPort: 7601}
                """);
        assertTrue(e.getMessage().contains("h:7500 is used twice (node b)"), e.getMessage());
    }

    @Test
    void moreReplicasThanNodesIsRefused() throws IOException {
        ConfigException e = refused("""
                nodeId: a
                dataDir: d
                replicas: 3
                writeQuorum: 2
                readQuorum: 2
                nodes:
                  - {id: a, host: h, port: 7400, raftPort: 7500, httpPort: 7600}
                  - {id: b, host: h, port: 7401, raftPort: 7501, httpPort: 7601}
                """);
        assertTrue(e.getMessage().contains("replicas (N=3) is larger than the number of nodes (2)"), e.getMessage());
    }

    @Test
    void aNodeWithoutPortsIsRefused() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nnodes:\n  - {id: a, host: h, port: 1}\n");
        assertTrue(e.getMessage().contains("every node needs"), e.getMessage());
    }

    @Test
    void aQuorumBreakingTheRulesIsRefusedWithTheFileName() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nwriteQuorum: 1\nreadQuorum: 1\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("cairn.yaml: quorums break the rule N_R + N_W > N"), e.getMessage());
    }

    @Test
    void aMissingFileSaysHowToPassOne() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.loadNode(dir.resolve("absent.yaml")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void anEmptyFileSaysItIsEmpty() throws IOException {
        for (String empty : new String[] {"", "\n", "# only a comment\n", "---\n"}) {
            ConfigException e = refused(empty);
            assertTrue(e.getMessage().contains("the file is empty"), "for '" + empty + "': " + e.getMessage());
        }
    }

    @Test
    void brokenYamlIsRefusedAsNotValidYaml() throws IOException {
        ConfigException e = refused("nodeId: 'a\ndataDir: d\n");
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    }

    @Test
    void zonesAndJoinAreReadAndWrittenBack() throws IOException {
        Path file = write("""
                nodeId: d
                dataDir: data
                join: true
                nodes:
                  - {id: a, host: 127.0.0.1, port: 7400, raftPort: 7500, httpPort: 7600, zone: rack-1}
                  - {id: b, host: 127.0.0.1, port: 7401, raftPort: 7501, httpPort: 7601, zone: rack-2}
                  - {id: c, host: 127.0.0.1, port: 7402, raftPort: 7502, httpPort: 7602}
                  - {id: d, host: 127.0.0.1, port: 7403, raftPort: 7503, httpPort: 7603, zone: rack-1}
                """);
        NodeConfig config = ConfigFiles.loadNode(file);
        assertTrue(config.join());
        assertEquals(List.of("rack-1", "rack-2", "", "rack-1"), config.nodes().stream().map(NodeAddress::zone).toList());
        Path again = dir.resolve("again.yaml");
        ConfigFiles.writeNode(config, again);
        assertEquals(config, ConfigFiles.loadNode(again));
        assertEquals(false, ConfigFiles.loadNode(write("nodeId: a\ndataDir: .\n" + THREE_NODES)).join(), "join defaults to false");
    }

    @Test
    void aZoneWithSpacesIsRefusedByName() throws IOException {
        ConfigException e = refused("""
                nodeId: a
                dataDir: .
                nodes:
                  - {id: a, host: 127.0.0.1, port: 7400, raftPort: 7500, httpPort: 7600, zone: "rack 1"}
                """);
        assertTrue(e.getMessage().contains("zone 'rack 1' is invalid"), e.getMessage());
    }

    @Test
    void aQuotedNumberForAPortIsRefusedNamingTheField() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nnodes:\n  - {id: a, host: h, port: \"7400\", raftPort: 2, httpPort: 3}\n");
        assertTrue(e.getMessage().contains("bad value for 'nodes[0].port'"), e.getMessage());
        assertTrue(e.getMessage().contains("whole number"), "says what to write: " + e.getMessage());
        assertPlainWords(e);
    }

    @Test
    void aFractionForAPortIsRefusedNamingTheField() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nnodes:\n  - {id: a, host: h, port: 7400.9, raftPort: 2, httpPort: 3}\n");
        assertTrue(e.getMessage().contains("bad value for 'nodes[0].port'"), e.getMessage());
        assertTrue(e.getMessage().contains("7400.9"), "names the value: " + e.getMessage());
        assertPlainWords(e);
    }

    @Test
    void aQuotedNumberOrAFractionForALimitIsRefusedNamingTheField() throws IOException {
        ConfigException quoted = refused("nodeId: a\ndataDir: d\nlimits: {maxChunkBytes: \"65536\"}\n" + THREE_NODES);
        assertTrue(quoted.getMessage().contains("bad value for 'limits.maxChunkBytes'"), quoted.getMessage());
        ConfigException fraction = refused("nodeId: a\ndataDir: d\nreplicas: 2.5\n" + THREE_NODES);
        assertTrue(fraction.getMessage().contains("bad value for 'replicas'"), fraction.getMessage());
    }

    @Test
    void aDuplicateKeyIsRefusedNamingTheField() throws IOException {
        ConfigException top = refused("nodeId: a\ndataDir: d\nreplicas: 3\nreplicas: 1\n" + THREE_NODES);
        assertTrue(top.getMessage().contains("'replicas'") && top.getMessage().contains("twice"), top.getMessage());
        ConfigException inner = refused("nodeId: a\ndataDir: d\nnodes:\n  - {id: a, host: h, port: 1, port: 9, raftPort: 2, httpPort: 3}\n");
        assertTrue(inner.getMessage().contains("'nodes[0].port'") && inner.getMessage().contains("twice"), inner.getMessage());
        assertPlainWords(top);
    }

    @Test
    void aNumberTooLargeForItsFieldIsRefusedNamingTheField() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nlimits: {maxFrameBytes: 99999999999}\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("limits.maxFrameBytes"), e.getMessage());
        assertPlainWords(e);
    }

    @Test
    void aFrameLimitAboveTheMaximumIsRefusedAtLoadNamingTheField() throws IOException {
        ConfigException frame = refused("nodeId: a\ndataDir: d\nlimits: {maxFrameBytes: 1073741824}\n" + THREE_NODES);
        assertTrue(frame.getMessage().contains("limits.maxFrameBytes must be at most " + Limits.MAX_FRAME_BYTES), frame.getMessage());
        ConfigException chunk = refused("nodeId: a\ndataDir: d\nlimits: {maxChunkBytes: 67108864}\n" + THREE_NODES);
        assertTrue(chunk.getMessage().contains("limits.maxChunkBytes must be at most " + Limits.MAX_CHUNK_BYTES), chunk.getMessage());
    }

    @Test
    void aHostThatIsNoHostNameIsRefusedByName() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\nnodes:\n  - {id: a, host: \"user@h\", port: 1, raftPort: 2, httpPort: 3}\n");
        assertTrue(e.getMessage().contains("host 'user@h' is not a host name or IP address"), e.getMessage());
    }

    @Test
    void aDataDirThatIsNoPathIsRefusedInPlainWords() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: \"a\\0b\"\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("dataDir") && e.getMessage().contains("is not a usable path"), e.getMessage());
    }

    @Test
    void aHugeValueIsQuotedBackCut() throws IOException {
        ConfigException e = refused("nodeId: " + "x".repeat(100_000) + "\ndataDir: d\n" + THREE_NODES);
        assertTrue(e.getMessage().contains("(100000 characters)") && e.getMessage().length() < 500, e.getMessage());
    }

    @Test
    void aFileLargerThanAConfigCanBeIsRefusedBeforeItIsParsed() throws IOException {
        ConfigException e = refused("nodeId: a\ndataDir: d\n" + THREE_NODES + "# " + "x".repeat(ConfigFiles.MAX_FILE_BYTES) + "\n");
        assertTrue(e.getMessage().contains("more than the " + ConfigFiles.MAX_FILE_BYTES), e.getMessage());
    }

    /** A message for an operator: no Java type names, no Jackson advice. */
    private static void assertPlainWords(ConfigException e) {
        for (String java : new String[] {"java.", "`", "Integer", "CoercionConfig", "MismatchedInput", "Cannot deserialize"}) {
            assertTrue(!e.getMessage().contains(java), "no '" + java + "' in: " + e.getMessage());
        }
    }
}
