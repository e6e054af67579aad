package dev.cairn.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Reads and writes node configuration files (YAML). */
public final class ConfigFiles {

    /** The file as written: every field optional here so that defaults and messages are ours. */
    record NodeFile(String nodeId, String dataDir, Integer replicas, Integer writeQuorum, Integer readQuorum,
                    List<AddressFile> nodes, LimitsFile limits, Boolean join, TlsFile tls) {}

    record AddressFile(String id, String host, Integer port, Integer raftPort, Integer httpPort, String zone) {}

    record LimitsFile(Integer maxFrameBytes, Integer maxChunkBytes) {}

    /** {@code tls:}; paths relative to the file's folder. Off when absent: docs/security.md. */
    record TlsFile(Boolean enabled, String caCert, String cert, String key) {
        TlsConfig toConfig(Path base) {
            if (!Boolean.TRUE.equals(enabled)) {
                return TlsConfig.OFF;
            }
            return TlsConfig.node(resolve(base, caCert), resolve(base, cert), resolve(base, key));
        }

        private static Path resolve(Path base, String file) {
            return file == null ? null : base.resolve(file).normalize();
        }
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private ConfigFiles() {}

    /**
     * Loads a node configuration. A relative {@code dataDir} is resolved against the file's folder,
     * so a config and its data can be moved together.
     */
    public static NodeConfig loadNode(Path file) {
        NodeFile raw;
        try {
            // An empty or comment-only file has no token at all; readValue would call that a bad
            // value for '' instead of saying the file is empty.
            try (JsonParser parser = YAML.createParser(Files.readString(file))) {
                raw = parser.nextToken() == null ? null : YAML.readValue(parser, NodeFile.class);
            }
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file; pass the node's cairn.yaml with --config");
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(file + ": unknown field '" + e.getPropertyName() + "'" + where(e)
                    + "; known fields: " + e.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                    .collect(Collectors.joining(", ")));
        } catch (JsonMappingException e) {
            throw new ConfigException(file + ": bad value for '" + path(e) + "'" + where(e) + ": " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + ": not valid YAML" + where(e) + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (raw == null) {
            throw new ConfigException(file + ": the file is empty");
        }
        try {
            return toConfig(raw, file.toAbsolutePath().getParent());
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    static NodeConfig toConfig(NodeFile raw, Path base) {
        if (raw.nodeId() == null) {
            throw new ConfigException("nodeId is missing");
        }
        if (raw.dataDir() == null) {
            throw new ConfigException("dataDir is missing");
        }
        if (raw.nodes() == null) {
            throw new ConfigException("nodes is missing: list every node of the cluster, this one included");
        }
        List<NodeAddress> nodes = new ArrayList<>();
        for (AddressFile a : raw.nodes()) {
            if (a == null || a.port() == null || a.raftPort() == null || a.httpPort() == null) {
                throw new ConfigException("nodes: every node needs id, host, port, raftPort and httpPort");
            }
            nodes.add(new NodeAddress(a.id(), a.host(), a.port(), a.raftPort(), a.httpPort(), a.zone()));
        }
        Quorum defaults = Quorum.defaultFor(nodes.size());
        Quorum quorum = new Quorum(
                orDefault(raw.replicas(), defaults.replicas()),
                orDefault(raw.writeQuorum(), defaults.writeQuorum()),
                orDefault(raw.readQuorum(), defaults.readQuorum()));
        Limits limits = raw.limits() == null ? Limits.defaults() : new Limits(
                orDefault(raw.limits().maxFrameBytes(), Limits.DEFAULT_MAX_FRAME_BYTES),
                orDefault(raw.limits().maxChunkBytes(), Limits.DEFAULT_MAX_CHUNK_BYTES));
        Path dataDir = base.resolve(raw.dataDir()).normalize();
        return new NodeConfig(raw.nodeId(), dataDir, quorum, nodes, limits, Boolean.TRUE.equals(raw.join()),
                raw.tls() == null ? TlsConfig.OFF : raw.tls().toConfig(base));
    }

    /** Writes a node configuration; {@link #loadNode} reads it back to an equal value. */
    public static void writeNode(NodeConfig config, Path file) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("nodeId", config.nodeId());
        out.put("dataDir", config.dataDir().toString());
        out.put("replicas", config.quorum().replicas());
        out.put("writeQuorum", config.quorum().writeQuorum());
        out.put("readQuorum", config.quorum().readQuorum());
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (NodeAddress n : config.nodes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", n.id());
            m.put("host", n.host());
            m.put("port", n.port());
            m.put("raftPort", n.raftPort());
            m.put("httpPort", n.httpPort());
            if (!n.zone().isEmpty()) {
                m.put("zone", n.zone());
            }
            nodes.add(m);
        }
        out.put("nodes", nodes);
        if (config.join()) {
            out.put("join", true);
        }
        out.put("limits", Map.of("maxFrameBytes", config.limits().maxFrameBytes(),
                "maxChunkBytes", config.limits().maxChunkBytes()));
        writeTls(config.tls(), out);
        Files.writeString(file, YAML.writeValueAsString(out));
    }

    private static void writeTls(TlsConfig tls, Map<String, Object> out) {
        if (tls.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("enabled", true);
            m.put("caCert", tls.caCert().toString());
            m.put("cert", tls.cert().toString());
            m.put("key", tls.key().toString());
            out.put("tls", m);
        }
    }

    private static int orDefault(Integer value, int fallback) {
        return value == null ? fallback : value;
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String where(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
    }
}
