package dev.cairn.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads and writes node configuration files (YAML). */
public final class ConfigFiles {

    /** The file as written: every field optional here so that defaults and messages are ours. */
    record NodeFile(String nodeId, String dataDir, Integer replicas, Integer writeQuorum, Integer readQuorum,
                    List<AddressFile> nodes, LimitsFile limits, Boolean join, HttpLimits.File http, AuthFile auth, TlsFile tls) {}

    record AuthFile(Boolean required, String clusterSecretFile) {}

    record AddressFile(String id, String host, Integer port, Integer raftPort, Integer httpPort, String zone) {}

    record LimitsFile(Integer maxFrameBytes, Integer maxChunkBytes, Integer maxConnections,
                      Long maxInFlightBytesPerConnection, Long maxInFlightBytes) {}

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

    /**
     * Strict on purpose: a number written as text ({@code "7400"}) or with a fraction ({@code 7400.9})
     * and a key written twice (of which Jackson would keep the last) are refused, not guessed at; a
     * config that means something other than it says is worse than one that does not start.
     */
    private static final ObjectMapper YAML = strict(JsonMapper.builder(YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build());

    private static ObjectMapper strict(ObjectMapper mapper) {
        for (LogicalType type : new LogicalType[] {LogicalType.Integer, LogicalType.Boolean, LogicalType.Float}) {
            mapper.coercionConfigFor(type)
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        }
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        return mapper;
    }

    /**
     * The largest config file read: 256 KiB. A node line is about 100 bytes, so this holds thousands
     * of nodes; and the YAML reader's time grows with the square of a long value's length (a 4 MB
     * string took 15 s in ConfigFuzzTest), so the cap also bounds how long a start can hang on a bad file.
     */
    static final int MAX_FILE_BYTES = 256 * 1024;

    private ConfigFiles() {}

    /**
     * Loads a node configuration. A relative {@code dataDir} is resolved against the file's folder,
     * so a config and its data can be moved together.
     */
    public static NodeConfig loadNode(Path file) {
        String text;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ConfigException(file + ": the file is " + size + " bytes, more than the " + MAX_FILE_BYTES
                        + " a node config may have; is it the right file?");
            }
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file; pass the node's cairn.yaml with --config");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parseNode(text, file);
    }

    /** Reads the text of {@code file} (named in every message; a relative dataDir resolves against its folder). */
    static NodeConfig parseNode(String text, Path file) {
        if (text.length() > MAX_FILE_BYTES) {
            throw new ConfigException(file + ": the file is " + text.length() + " characters, more than the "
                    + MAX_FILE_BYTES + " a node config may have; is it the right file?");
        }
        NodeFile raw;
        // An empty or comment-only file has no token at all; readValue would call that a bad value
        // for the whole file instead of saying the file is empty.
        try (JsonParser parser = YAML.createParser(text)) {
            raw = isEmptyDocument(parser) ? null : YAML.readValue(parser, NodeFile.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + ": " + YamlErrors.describe(e));
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
            NodeAddress node = new NodeAddress(a.id(), a.host(), a.port(), a.raftPort(), a.httpPort(), a.zone());
            NodeAddress.checkHost(node.id(), node.host());
            nodes.add(node);
        }
        Quorum defaults = Quorum.defaultFor(nodes.size());
        Quorum quorum = new Quorum(
                orDefault(raw.replicas(), defaults.replicas()),
                orDefault(raw.writeQuorum(), defaults.writeQuorum()),
                orDefault(raw.readQuorum(), defaults.readQuorum()));
        LimitsFile l = raw.limits();
        Limits limits = l == null ? Limits.defaults() : new Limits(
                orDefault(l.maxFrameBytes(), Limits.DEFAULT_MAX_FRAME_BYTES),
                orDefault(l.maxChunkBytes(), Limits.DEFAULT_MAX_CHUNK_BYTES),
                orDefault(l.maxConnections(), Limits.DEFAULT_MAX_CONNECTIONS),
                l.maxInFlightBytesPerConnection() == null ? Limits.DEFAULT_MAX_IN_FLIGHT_BYTES_PER_CONNECTION
                        : l.maxInFlightBytesPerConnection(),
                l.maxInFlightBytes() == null ? Limits.DEFAULT_MAX_IN_FLIGHT_BYTES : l.maxInFlightBytes());
        Path dataDir;
        try {
            dataDir = base.resolve(raw.dataDir()).normalize();
        } catch (InvalidPathException e) {
            throw new ConfigException("dataDir '" + ConfigException.shown(raw.dataDir()) + "' is not a usable path: " + e.getReason());
        }
        AuthConfig auth = raw.auth() == null ? AuthConfig.OFF : new AuthConfig(Boolean.TRUE.equals(raw.auth().required()),
                raw.auth().clusterSecretFile() == null ? null : base.resolve(raw.auth().clusterSecretFile()).normalize());
        return new NodeConfig(raw.nodeId(), dataDir, quorum, nodes, limits, Boolean.TRUE.equals(raw.join()),
                HttpLimits.File.toLimits(raw.http()), auth,
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
        if (!config.auth().equals(AuthConfig.OFF)) {
            Map<String, Object> auth = new LinkedHashMap<>();
            auth.put("required", config.auth().required());
            if (config.auth().clusterSecretFile() != null) {
                auth.put("clusterSecretFile", config.auth().clusterSecretFile().toString());
            }
            out.put("auth", auth);
        }
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("maxFrameBytes", config.limits().maxFrameBytes());
        limits.put("maxChunkBytes", config.limits().maxChunkBytes());
        limits.put("maxConnections", config.limits().maxConnections());
        limits.put("maxInFlightBytesPerConnection", config.limits().maxInFlightBytesPerConnection());
        limits.put("maxInFlightBytes", config.limits().maxInFlightBytes());
        out.put("limits", limits);
        out.put("http", HttpLimits.File.of(config.http()));
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

    /** No token, or only a document marker (read as an empty scalar): the file says nothing. */
    private static boolean isEmptyDocument(JsonParser parser) throws IOException {
        JsonToken first = parser.nextToken();
        return first == null || first == JsonToken.VALUE_NULL
                || (first == JsonToken.VALUE_STRING && parser.getText().isEmpty() && parser.nextToken() == null);
    }

    private static int orDefault(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
