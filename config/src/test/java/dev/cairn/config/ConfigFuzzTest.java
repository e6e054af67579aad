package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds thousands of generated bad configurations to the loaders: node files mutated from a valid
 * one (wrong types, numbers out of range, unknown and duplicate keys, deep nesting, huge strings,
 * quorums and addresses that break the rules, truncation) and client cluster strings. Each must be
 * refused with a {@link ConfigException} in plain words that names a field or the problem, never
 * another exception, and in bounded time. Seeded: the seed is in every failure, and
 * {@code -Dcairn.fuzz.seed=N} replays a run.
 */
class ConfigFuzzTest {

    static final long SEED = Long.getLong("cairn.fuzz.seed", System.nanoTime());
    static final int NODE_CASES = 10_000;
    static final int CLIENT_CASES = 2_000;
    private static final int MAX_FAILURES_SHOWN = 30;

    /** Words one of which a refusal must contain: a field's name or what is wrong with the file. */
    private static final List<String> NAMED = List.of("nodeId", "dataDir", "replicas", "writeQuorum", "readQuorum",
            "nodes", "node ", "id", "host", "port", "raftPort", "httpPort", "zone", "join", "limits", "http", "auth", "tls", "the file",
            "not valid YAML", "the file is empty", "unknown field", "appears twice", "cluster", "endpoint");
    /** What must never reach an operator. */
    private static final List<String> JAVA_WORDS = List.of("java.", "com.fasterxml", "Exception", "`", "\tat ");

    @TempDir
    Path dir;

    @Test
    void theValidBaseConfigsLoad() throws IOException {
        NodeConfig node = ConfigFiles.loadNode(write(render(baseNode())));
        assertEquals("node-3", node.nodeId());
        assertEquals(3, node.nodes().size());
        assertEquals(2, ClientConfig.parse(BASE_CLUSTER).endpoints().size());
    }

    @Test
    void everyGeneratedBadNodeConfigIsRefusedByNameInBoundedTime() {
        // A hang guard, far above the ~20 s a run takes on a shared machine.
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < NODE_CASES && failures.size() < MAX_FAILURES_SHOWN; i++) {
                Random r = new Random(SEED * 31 + i);
                String yaml = badNode(r);
                // One case in 25 (and every oversized one) goes through a file; the rest skip the disk, which the machine's
                // other builds share, and are parsed as that file's text would be.
                boolean throughFile = i % 25 == 0 || yaml.length() > ConfigFiles.MAX_FILE_BYTES;
                Path file = throughFile ? write(yaml) : dir.resolve("cairn.yaml");
                try {
                    if (throughFile) {
                        ConfigFiles.loadNode(file);
                    } else {
                        ConfigFiles.parseNode(yaml, file);
                    }
                    failures.add(report(i, "was accepted", yaml));
                } catch (ConfigException e) {
                    checkMessage(i, e.getMessage(), yaml, failures);
                } catch (RuntimeException | StackOverflowError e) {
                    failures.add(report(i, "threw " + e + " instead of a refusal", yaml));
                }
            }
            assertNoFailures(failures);
        }, "seed " + SEED + ": the node cases took over 120 s; rerun with -Dcairn.fuzz.seed=" + SEED);
    }

    @Test
    void everyGeneratedBadClusterStringIsRefusedByName() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < CLIENT_CASES && failures.size() < MAX_FAILURES_SHOWN; i++) {
                String cluster = badCluster(new Random(SEED * 37 + i));
                try {
                    ClientConfig.parse(cluster);
                    failures.add(report(i, "was accepted", cluster));
                } catch (ConfigException e) {
                    checkMessage(i, e.getMessage(), cluster, failures);
                } catch (RuntimeException e) {
                    failures.add(report(i, "threw " + e + " instead of a refusal", cluster));
                }
            }
            assertNoFailures(failures);
        }, "seed " + SEED + ": the client cases took over 20 s; rerun with -Dcairn.fuzz.seed=" + SEED);
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("cairn.yaml"), yaml);
    }

    private static void checkMessage(int index, String message, String input, List<String> failures) {
        if (message == null || message.isBlank() || NAMED.stream().noneMatch(message::contains)) {
            failures.add(report(index, "was refused without naming a field or the problem: " + message, input));
            return;
        }
        for (String java : JAVA_WORDS) {
            if (message.contains(java)) {
                failures.add(report(index, "was refused in Java's words ('" + java + "'): " + message, input));
                return;
            }
        }
        if (message.length() > 1000) {
            failures.add(report(index, "was refused with a message of " + message.length() + " characters: "
                    + message.substring(0, 300), input));
        }
    }

    private static void assertNoFailures(List<String> failures) {
        if (!failures.isEmpty()) {
            fail(failures.size() + " bad inputs were not refused well (showing at most " + MAX_FAILURES_SHOWN + "):\n\n"
                    + String.join("\n\n", failures));
        }
    }

    private static String report(int index, String what, String input) {
        String shown = input.length() > 400 ? input.substring(0, 400) + "… (" + input.length() + " chars)" : input;
        return "seed " + SEED + " case " + index + " " + what + " (rerun with -Dcairn.fuzz.seed=" + SEED + ")\n" + shown;
    }

    // ---- the node config: a model rendered to YAML, so a mutation knows which field it breaks ----

    /** Top-level fields in file order; {@code nodes} is last so that any truncation loses this node. */
    private static Map<String, Object> baseNode() {
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("dataDir", "data");
        top.put("replicas", "3");
        top.put("writeQuorum", "2");
        top.put("readQuorum", "2");
        top.put("join", "false");
        Map<String, String> limits = new LinkedHashMap<>();
        limits.put("maxFrameBytes", String.valueOf(Limits.DEFAULT_MAX_FRAME_BYTES));
        limits.put("maxChunkBytes", String.valueOf(Limits.DEFAULT_MAX_CHUNK_BYTES));
        limits.put("maxConnections", String.valueOf(Limits.DEFAULT_MAX_CONNECTIONS));
        limits.put("maxInFlightBytesPerConnection", String.valueOf(Limits.DEFAULT_MAX_IN_FLIGHT_BYTES_PER_CONNECTION));
        limits.put("maxInFlightBytes", String.valueOf(Limits.DEFAULT_MAX_IN_FLIGHT_BYTES));
        top.put("limits", limits);
        top.put("nodeId", "node-3");
        List<Map<String, String>> nodes = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            Map<String, String> n = new LinkedHashMap<>();
            n.put("id", "node-" + i);
            n.put("host", "127.0.0.1");
            n.put("port", String.valueOf(7390 + 10 * i));
            n.put("raftPort", String.valueOf(7391 + 10 * i));
            n.put("httpPort", String.valueOf(7392 + 10 * i));
            n.put("zone", "rack-" + i);
            nodes.add(n);
        }
        top.put("nodes", nodes);
        return top;
    }

    @SuppressWarnings("unchecked")
    private static String render(Map<String, Object> top) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Object> e : top.entrySet()) {
            String key = e.getKey().startsWith("#dup") ? e.getKey().substring(e.getKey().indexOf(':') + 1) : e.getKey();
            if (e.getValue() instanceof Map<?, ?> limits) {
                out.append(key).append(":\n");
                ((Map<String, String>) limits).forEach((k, v) -> out.append("  ").append(unDup(k)).append(": ").append(v).append('\n'));
            } else if (e.getValue() instanceof List<?> nodes) {
                out.append(key).append(":\n");
                for (Map<String, String> n : (List<Map<String, String>>) nodes) {
                    List<String> pairs = new ArrayList<>();
                    n.forEach((k, v) -> pairs.add(unDup(k) + ": " + v));
                    out.append("  - {").append(String.join(", ", pairs)).append("}\n");
                }
            } else {
                out.append(key).append(": ").append(e.getValue()).append('\n');
            }
        }
        return out.toString();
    }

    /** A key written twice is kept in the model as {@code #dupN:key}. */
    private static String unDup(String key) {
        return key.startsWith("#dup") ? key.substring(key.indexOf(':') + 1) : key;
    }

    private static final List<String> INT_FIELDS = List.of("replicas", "writeQuorum", "readQuorum");
    private static final List<String> NODE_INT_FIELDS = List.of("port", "raftPort", "httpPort");
    private static final List<String> LIMIT_FIELDS = List.of("maxFrameBytes", "maxChunkBytes");
    /** Bad in the place of any whole number of the file: every one of them is at least 1. */
    private static final List<String> BAD_NUMBERS = List.of("\"7400\"", "'3'", "7400.9", "2.5", "1.0", "[1]", "{a: 1}",
            "seven", "true", "99999999999", "-1", "0", "-2147483649", ".inf", ".nan", "1e3", "\"\"", "0.0001");
    private static final List<String> BAD_SHAPES = List.of("[a]", "{a: b}", "[]", "{}", "[[x]]", "{a: [1, 2]}");

    @SuppressWarnings("unchecked")
    private static String badNode(Random r) {
        Map<String, Object> top = baseNode();
        Map<String, String> limits = (Map<String, String>) top.get("limits");
        List<Map<String, String>> nodes = (List<Map<String, String>>) top.get("nodes");
        Map<String, String> node = nodes.get(r.nextInt(nodes.size()));
        switch (r.nextInt(16)) {
            case 0 -> top.put(pick(r, INT_FIELDS), pick(r, BAD_NUMBERS));
            case 1 -> node.put(pick(r, NODE_INT_FIELDS), pick(r, concat(BAD_NUMBERS, List.of("65536", "70000", "100000"))));
            case 2 -> {
                if (r.nextInt(3) == 0) {
                    badNetworkLimit(r, limits);
                    return render(top);
                }
                boolean frame = r.nextBoolean();
                limits.put(frame ? "maxFrameBytes" : "maxChunkBytes", pick(r, concat(BAD_NUMBERS, frame
                        ? List.of("65536", String.valueOf(Limits.MAX_FRAME_BYTES + 1), "2147483647")
                        : List.of("4095", String.valueOf(Limits.MAX_CHUNK_BYTES + 1), "2147483647"))));
            }
            case 3 -> badQuorum(r, top);
            case 4 -> badString(r, top, node);
            case 5 -> top.put("join", pick(r, List.of("maybe", "2", "0", "[true]", "\"true\"", "'false'", "{a: b}", "1.5")));
            case 6 -> unknownKey(r, top, limits, node);
            case 7 -> duplicateKey(r, top, limits, node);
            case 8 -> deepNesting(r, top, node);
            case 9 -> badAddress(r, top, nodes, node);
            case 10 -> badStructure(r, top);
            case 11 -> {
                return truncated(r, render(top));
            }
            case 12 -> {
                return brokenSyntax(r, render(top));
            }
            case 13 -> top.remove(pick(r, List.of("dataDir", "nodeId", "nodes")));
            case 14 -> node.remove(pick(r, List.of("id", "host", "port", "raftPort", "httpPort")));
            default -> hugeString(r, top, node);
        }
        return render(top);
    }

    private static void badNetworkLimit(Random r, Map<String, String> limits) {
        switch (r.nextInt(3)) {
            case 0 -> limits.put("maxConnections", pick(r, concat(BAD_NUMBERS, List.of("65537", "2147483647"))));
            case 1 -> limits.put("maxInFlightBytesPerConnection", pick(r, concat(BAD_NUMBERS,
                    List.of("1024", String.valueOf(Limits.DEFAULT_MAX_FRAME_BYTES - 1), "99999999999999999999"))));
            default -> limits.put("maxInFlightBytes", pick(r, concat(BAD_NUMBERS,
                    List.of(String.valueOf(Limits.DEFAULT_MAX_IN_FLIGHT_BYTES_PER_CONNECTION - 1), "68719476737"))));
        }
    }

    private static void badQuorum(Random r, Map<String, Object> top) {
        // Each breaks N >= 1, 1 <= N_W, N_R <= N, N_R + N_W > N, N_W > N/2 or N <= nodes.
        String[][] bad = {{"3", "1", "3"}, {"3", "2", "1"}, {"3", "1", "2"}, {"4", "3", "2"}, {"2", "1", "2"},
            {"1", "2", "1"}, {"3", "4", "1"}, {"3", "3", "0"}, {"0", "1", "1"}, {"3", "2", "4"}, {"2", "1", "1"}};
        String[] q = bad[r.nextInt(bad.length)];
        top.put("replicas", q[0]);
        top.put("writeQuorum", q[1]);
        top.put("readQuorum", q[2]);
    }

    private static void badString(Random r, Map<String, Object> top, Map<String, String> node) {
        switch (r.nextInt(5)) {
            case 0 -> top.put("nodeId", pick(r, concat(BAD_SHAPES, List.of("node-9", "''", "\"node 3\"", "~", "node-33"))));
            case 1 -> top.put("dataDir", pick(r, concat(BAD_SHAPES, List.of("~", "\"a\\0b\""))));
            case 2 -> node.put("id", pick(r, concat(BAD_SHAPES, List.of("\"a b\"", "-a", "_a", "''", "\"x".repeat(1) + "y".repeat(32) + "\"",
                    "\"n/1\"", "\"é\""))));
            case 3 -> node.put("host", pick(r, concat(BAD_SHAPES, List.of("''", "\" \"", "\"a b\"", "\"h/x\"", "\"user@h\"",
                    "\"" + "h".repeat(254) + "\"", "\"h\\nx\""))));
            default -> node.put("zone", pick(r, concat(BAD_SHAPES, List.of("\"rack 1\"", "\"" + "z".repeat(33) + "\"", "-z", "\"r/1\""))));
        }
    }

    private static void unknownKey(Random r, Map<String, Object> top, Map<String, String> limits, Map<String, String> node) {
        String key = pick(r, List.of("replicaCount", "grpcPort", "tlsMode", "Replicas", "node_id", "x", "maxFrames", "ports"));
        switch (r.nextInt(3)) {
            case 0 -> top.put(key, String.valueOf(r.nextInt(100)));
            case 1 -> limits.put(key, "1");
            default -> node.put(key, "1");
        }
    }

    private static void duplicateKey(Random r, Map<String, Object> top, Map<String, String> limits, Map<String, String> node) {
        switch (r.nextInt(3)) {
            case 0 -> {
                String key = pick(r, List.of("dataDir", "replicas", "writeQuorum", "readQuorum", "join", "nodeId"));
                Map<String, Object> copy = new LinkedHashMap<>();
                top.forEach((k, v) -> {
                    copy.put(k, v);
                    if (k.equals(key)) {
                        copy.put("#dup1:" + k, v);
                    }
                });
                top.clear();
                top.putAll(copy);
            }
            case 1 -> {
                String key = pick(r, LIMIT_FIELDS);
                limits.put("#dup1:" + key, limits.get(key));
            }
            default -> {
                String key = pick(r, List.of("id", "host", "port", "raftPort", "httpPort", "zone"));
                node.put("#dup1:" + key, node.get(key));
            }
        }
    }

    private static void deepNesting(Random r, Map<String, Object> top, Map<String, String> node) {
        int depth = r.nextInt(10) == 0 ? 1000 + r.nextInt(2000) : 40 + r.nextInt(200);
        boolean lists = r.nextBoolean();
        String value = lists ? "[".repeat(depth) + "1" + "]".repeat(depth) : "{a: ".repeat(depth) + "1" + "}".repeat(depth);
        if (r.nextBoolean()) {
            top.put(pick(r, List.of("dataDir", "replicas", "nodeId", "join")), value);
        } else {
            node.put(pick(r, List.of("id", "host", "port", "zone")), value);
        }
    }

    private static void badAddress(Random r, Map<String, Object> top, List<Map<String, String>> nodes, Map<String, String> node) {
        Map<String, String> other = nodes.get((nodes.indexOf(node) + 1) % nodes.size());
        switch (r.nextInt(4)) {
            case 0 -> { // two nodes on one host and port
                String field = pick(r, NODE_INT_FIELDS);
                node.put(field, other.get(pick(r, NODE_INT_FIELDS)));
            }
            case 1 -> node.put(pick(r, List.of("raftPort", "httpPort")), node.get("port")); // one node, one port twice
            case 2 -> node.put("id", other.get("id")); // one id twice
            default -> top.put("nodes", List.of()); // no nodes at all
        }
    }

    private static void badStructure(Random r, Map<String, Object> top) {
        switch (r.nextInt(5)) {
            case 0 -> top.put("limits", Map.of("#dup0:- maxFrameBytes", "1"));
            case 1 -> top.put("nodes", List.of(Map.of("#dup0:- id", "a")));
            case 2 -> top.put("nodes", "{id: node-3}");
            case 3 -> top.put("limits", "[]");
            default -> top.put("nodes", "[~]");
        }
    }

    private static void hugeString(Random r, Map<String, Object> top, Map<String, String> node) {
        // Mostly tens of kilobytes; one case in forty several megabytes (past the reader's 3 MB limit).
        int length = r.nextInt(40) == 0 ? 3_500_000 + r.nextInt(1_000_000) : 300 + r.nextInt(30_000);
        String huge = "\"" + "x".repeat(length) + "\"";
        switch (r.nextInt(4)) {
            case 0 -> top.put("nodeId", huge);
            case 1 -> node.put("id", huge);
            case 2 -> node.put("host", huge);
            default -> top.put("x".repeat(Math.min(length, 100_000)), "1"); // a huge unknown key
        }
    }

    /** Cut before the last node's closing brace: the file loses this node or stops being YAML. */
    private static String truncated(Random r, String yaml) {
        return yaml.substring(0, r.nextInt(yaml.lastIndexOf('}')));
    }

    /** Characters that break YAML's syntax, put where they cannot be read as part of a value. */
    private static String brokenSyntax(Random r, String yaml) {
        return switch (r.nextInt(6)) {
            case 0 -> yaml.replaceFirst("\n  - \\{", "\n\t- {");               // a tab as indentation
            case 1 -> yaml.replaceFirst("\\}\n", "\n");                         // an unclosed flow mapping
            case 2 -> yaml.replaceFirst("limits:\n  ", "limits:\n ");           // limits' keys at two depths
            case 3 -> yaml.replace("nodeId: node-3", "nodeId: 'node-3");        // an unclosed quote
            case 4 -> yaml.replace("replicas: 3", "replicas: *anchor");         // an alias never defined
            default -> "%YAML 9.9\n---\n" + yaml;                               // a version this reader refuses
        };
    }

    // ---- the client's cluster string ----

    static final String BASE_CLUSTER = "127.0.0.1:7400,127.0.0.1:7410";

    private static String badCluster(Random r) {
        String bad = pick(r, List.of("", " ", ",,,", " , ", "127.0.0.1", "127.0.0.1:", ":7400", "127.0.0.1:port",
                "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:-1", "127.0.0.1:99999999999", "127.0.0.1:74 00",
                "a b:7400", "h/x:7400", "user@h:7400", "h".repeat(254) + ":7400", "127.0.0.1:+7400", "127.0.0.1:0x1F",
                "127.0.0.1:7400.5", "\u0000:7400", "h:\n7400"));
        // Blank parts between commas are skipped, so a blank case is bad only on its own.
        boolean blank = bad.replace(",", "").isBlank();
        return switch (blank ? 0 : r.nextInt(3)) {
            case 0 -> bad;
            case 1 -> BASE_CLUSTER + "," + bad;
            default -> bad + "," + BASE_CLUSTER;
        };
    }

    private static <T> T pick(Random r, List<T> from) {
        return from.get(r.nextInt(from.size()));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
