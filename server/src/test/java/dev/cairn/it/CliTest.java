package dev.cairn.it;

import dev.cairn.client.cli.CairnCli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cairn command line against a real cluster: outputs, JSON last lines, one-line errors and exit codes. */
public class CliTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** What one CLI run printed and returned. */
    public record Run(int code, String out, String err) {
        public String lastLine() {
            String[] lines = out.strip().split("\n");
            return lines[lines.length - 1];
        }

        /** stdout line by line, exactly as printed (padding included). */
        List<String> lines() {
            return out.lines().toList();
        }

        /** The stderr lines that start with {@code prefix}: a node's log lines may land there too. */
        List<String> errLines(String prefix) {
            return err.lines().filter(l -> l.startsWith(prefix)).toList();
        }
    }

    /** A size as the CLI prints it: "512 B", "1.5 MiB". */
    static final String BYTES = "(?:\\d+ B|\\d+\\.\\d [KMGT]iB)";

    /** Asserts that the whole line matches; returns the match, for its groups. */
    static Matcher assertMatches(String regex, String line) {
        Matcher m = Pattern.compile(regex).matcher(line);
        assertTrue(m.matches(), "expected /" + regex + "/ but was: [" + line + "]");
        return m;
    }

    /** Runs the CLI in this JVM, capturing its output; every test package uses this one runner, so runs never interleave. */
    public static synchronized Run cairn(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = CairnCli.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void putGetLsStatRmWorkAndJsonIsTheLastLine() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.write(src.resolve("pages-1.img"), new byte[64 * 1024]);
        Files.writeString(src.resolve("core-1.img"), "core");
        String c = cluster.endpoints();

        Run put = cairn("put", "--cluster", c, "--json", "cli/img-a", src.toString());
        assertEquals(0, put.code(), put.err());
        JsonNode p = new ObjectMapper().readTree(put.lastLine());
        assertEquals(64 * 1024 + 4, p.get("logicalBytes").asLong());
        for (String field : new String[] {"sentBytes", "chunks", "newChunks", "commitIndex"}) {
            assertTrue(p.has(field), "put --json has " + field);
        }

        Run ls = cairn("ls", "--cluster", c, "cli/");
        assertEquals(0, ls.code(), ls.err());
        assertTrue(ls.out().startsWith("cli/img-a\t" + (64 * 1024 + 4) + "\t"), ls.out());

        Run stat = cairn("stat", "--cluster", c, "--json", "cli/img-a");
        assertEquals(0, stat.code(), stat.err());
        assertEquals(2, new ObjectMapper().readTree(stat.lastLine()).get("files").asLong());

        Path out = dir.resolve("out");
        Run get = cairn("get", "--cluster", c, "cli/img-a", out.toString());
        assertEquals(0, get.code(), get.err());
        assertEquals("core", Files.readString(out.resolve("core-1.img")));

        assertEquals(0, cairn("rm", "--cluster", c, "cli/img-a").code());
        Run gone = cairn("get", "--cluster", c, "cli/img-a", dir.resolve("out2").toString());
        assertEquals(3, gone.code());
        assertOneLineError(gone, "image 'cli/img-a' not found");
    }

    @Test
    void putAndGetTarAndEstimateWithJson() throws Exception {
        Path src = Files.createDirectories(dir.resolve("tar-src/sub"));
        Files.write(src.resolve("pages-2.img"), new byte[3 * 4096]);
        Files.writeString(src.resolve("note"), "hello");
        Path archive = dir.resolve("in.tar");
        Process tar = new ProcessBuilder("tar", "-C", dir.resolve("tar-src").toString(), "-cf", archive.toString(), ".")
                .redirectErrorStream(true).start();
        assertEquals(0, tar.waitFor());
        String c = cluster.endpoints();

        Run put = cairn("put", "--cluster", c, "--json", "--tar", "cli/tar", archive.toString());
        assertEquals(0, put.code(), put.err());
        assertEquals(3 * 4096 + 5, new ObjectMapper().readTree(put.lastLine()).get("logicalBytes").asLong());

        Path out = dir.resolve("out.tar");
        Run get = cairn("get", "--cluster", c, "--tar", "cli/tar", out.toString());
        assertEquals(0, get.code(), get.err());
        Path unpacked = Files.createDirectories(dir.resolve("tar-unpacked"));
        assertEquals(0, new ProcessBuilder("tar", "-C", unpacked.toString(), "-xf", out.toString()).start().waitFor());
        assertEquals("hello", Files.readString(unpacked.resolve("sub/note")));
        Run again = cairn("get", "--cluster", c, "--tar", "cli/tar", out.toString());
        assertOneLineError(again, "exists");

        Run estimate = cairn("estimate", "--json", dir.resolve("tar-src").toString(), dir.resolve("tar-src").toString());
        assertEquals(0, estimate.code(), estimate.err());
        JsonNode e = new ObjectMapper().readTree(estimate.lastLine());
        assertEquals(2 * (3 * 4096 + 5), e.get("logicalBytes").asLong());
        long unique = e.get("uniqueBytes").asLong();
        // One zero page, the note and one small manifest chunk: the second image dedups entirely.
        assertTrue(unique > 4096 + 5 && unique < 4096 + 5 + 1000, "unique bytes " + unique);
        assertTrue(e.get("storedBytes").asLong() < e.get("uniqueBytes").asLong());
        assertTrue(e.get("ratio").asDouble() > 1);

        // The archive estimates as the same image: the same chunks, so nothing more is unique. Its
        // stored bytes may differ by a few: small chunks are packed in the order the files come,
        // and a tar lists them in another order than the directory walk.
        JsonNode dirEstimate = new ObjectMapper().readTree(cairn("estimate", "--json", dir.resolve("tar-src").toString()).lastLine());
        Run fromTar = cairn("estimate", "--json", "--tar", archive.toString());
        assertEquals(0, fromTar.code(), fromTar.err());
        JsonNode tarEstimate = new ObjectMapper().readTree(fromTar.lastLine());
        assertEquals(dirEstimate.get("uniqueBytes"), tarEstimate.get("uniqueBytes"));
        long dirStored = dirEstimate.get("storedBytes").asLong();
        long tarStored = tarEstimate.get("storedBytes").asLong();
        assertTrue(Math.abs(dirStored - tarStored) <= dirStored / 20, "stored bytes " + dirStored + " vs " + tarStored);
    }

    @Test
    void theZstdLevelOfAPutIsTheCallersChoice() throws Exception {
        String c = cluster.endpoints();
        long[] stored = new long[2];
        int[] levels = {-7, 19};
        for (int i = 0; i < 2; i++) {
            Path file = dir.resolve("text-" + i + ".log");
            StringBuilder text = new StringBuilder();
            java.util.Random random = new java.util.Random(i);
            while (text.length() < 2_000_000) {
                text.append("step ").append(random.nextInt(1000)).append(" energy ").append(random.nextGaussian()).append('\n');
            }
            Files.writeString(file, text);
            Run put = cairn("put", "--cluster", c, "--json", "--zstd-level", String.valueOf(levels[i]), "levels/" + i, file.toString());
            assertEquals(0, put.code(), put.err());
            stored[i] = new ObjectMapper().readTree(put.lastLine()).get("storedBytes").asLong();
        }
        assertTrue(stored[1] < stored[0], "level 19 stores less than level -7: " + stored[1] + " vs " + stored[0]);
        Run bad = cairn("put", "--cluster", c, "--zstd-level", "30", "levels/bad", dir.toString());
        assertEquals(1, bad.code());
        assertOneLineError(bad, "zstd level 30");
    }

    @Test
    void aBadNameIsOneLineAndNonZero() {
        Run r = cairn("stat", "--cluster", cluster.endpoints(), "no//good");
        assertEquals(1, r.code());
        assertOneLineError(r, "empty segment");
    }

    @Test
    void anUnreachableClusterIsOneLineAndNonZero() {
        Run r = cairn("ls", "--cluster", "127.0.0.1:1");
        assertEquals(1, r.code());
        assertOneLineError(r, "cluster unreachable");
    }

    @Test
    void noClusterNamesTheEnvironmentVariable() {
        Run r = cairn("ls", "--cluster=");
        assertEquals(1, r.code());
        assertOneLineError(r, "CAIRN_CLUSTER");
    }

    @Test
    void aStackTraceOnlyWithVerbose() {
        Run r = cairn("ls", "--verbose", "--cluster", "127.0.0.1:1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("\tat "), "--verbose prints the stack trace");
    }

    @Test
    void devRefusesQuorumsThatBreakGiffordsRulesBeforeStartingAnything() {
        Run r = cairn("dev", "--data", dir.resolve("never").toString(), "--replicas", "3", "--write-quorum", "1",
                "--read-quorum", "1");
        assertEquals(1, r.code());
        assertOneLineError(r, "N_R + N_W > N");
        assertFalse(Files.exists(dir.resolve("never").resolve("node-1")), "nothing was created");
    }

    // The admin commands' stdout is a contract (CLI.md): the tests below pin every line shape of
    // each command on a healthy cluster, and the JSON last line byte for byte (key order included).
    // RepairTest, GcTest, MembershipTest and NodeFailureTest pin the lines of failures and changes.

    @Test
    void adminRepairPrintsALinePerNodeASummaryAndJsonLast() {
        for (boolean json : new boolean[] {false, true}) {
            Run run = json ? cairn("admin", "repair", "--json", "--cluster", cluster.endpoints())
                    : cairn("admin", "repair", "--cluster", cluster.endpoints());
            assertEquals(0, run.code(), run.out() + run.err());
            List<String> out = run.lines();
            assertEquals(json ? 5 : 4, out.size(), run.out());
            long chunks = 0;
            for (int i = 0; i < 3; i++) {
                chunks += Long.parseLong(assertMatches("node-" + (i + 1) + ": (\\d+) chunks counted, \\d+ copies sent \\("
                        + BYTES + "\\) in \\d+ ms", out.get(i)).group(1));
            }
            Matcher summary = assertMatches("summary: (\\d+) chunks, (\\d+) copies restored \\(" + BYTES
                    + "\\), 0 chunks still below N", out.get(3));
            assertEquals(chunks, Long.parseLong(summary.group(1)));
            if (json) {
                assertMatches("\\{\"chunks\":" + chunks + ",\"copiesRepaired\":" + summary.group(2)
                        + ",\"bytesRepaired\":\\d+,\"underReplicatedChunks\":0,\"failedNodes\":\\[\\]\\}", out.get(4));
            }
            // Progress only on a terminal (CLI.md); the test's stderr is not one.
            assertEquals(List.of(), run.errLines("repair: "), run.err());
        }
    }

    @Test
    void adminScrubPrintsALinePerNodeASummaryAndJsonLast() {
        for (boolean json : new boolean[] {false, true}) {
            Run run = json ? cairn("admin", "scrub", "--json", "--cluster", cluster.endpoints())
                    : cairn("admin", "scrub", "--cluster", cluster.endpoints());
            assertEquals(0, run.code(), run.out() + run.err());
            List<String> out = run.lines();
            assertEquals(json ? 5 : 4, out.size(), run.out());
            long checked = 0;
            for (int i = 0; i < 3; i++) {
                checked += Long.parseLong(assertMatches("node-" + (i + 1)
                        + ": (\\d+) chunks checked, 0 corrupt, 0 repaired, 0 unrepairable, \\d+ ms", out.get(i)).group(1));
            }
            assertEquals("summary: " + checked + " checked, 0 corrupt, 0 repaired, 0 unrepairable", out.get(3));
            if (json) {
                assertEquals("{\"checked\":" + checked + ",\"corrupt\":0,\"repaired\":0,\"unrepairable\":0,\"failedNodes\":[]}",
                        out.get(4));
            }
            assertEquals(List.of(), run.errLines("scrub: "), run.err());
        }
    }

    @Test
    void adminGcPrintsEachNodesSweepASummaryAndJsonLast() {
        for (boolean json : new boolean[] {false, true}) {
            Run run = json ? cairn("admin", "gc", "--max-wait", "60", "--json", "--cluster", cluster.endpoints())
                    : cairn("admin", "gc", "--max-wait", "60", "--cluster", cluster.endpoints());
            assertEquals(0, run.code(), run.out() + run.err());
            List<String> out = run.lines();
            assertEquals(json ? 5 : 4, out.size(), run.out());
            long freed = 0;
            long freedBytes = 0;
            for (int i = 0; i < 3; i++) {
                Matcher node = assertMatches("node-" + (i + 1) + ": freed (\\d+) chunks, " + BYTES
                        + " \\((\\d+) bytes\\); kept \\d+; \\d+ ms", out.get(i));
                freed += Long.parseLong(node.group(1));
                freedBytes += Long.parseLong(node.group(2));
            }
            Matcher summary = assertMatches("summary: epoch (\\d+) done; \\d+ images, \\d+ live chunk references; freed "
                    + freed + " chunks, " + BYTES + " in (\\d+) ms", out.get(3));
            if (json) {
                String node = "\\{\"freedChunks\":\\d+,\"freedBytes\":\\d+\\}";
                assertMatches("\\{\"epoch\":" + summary.group(1) + ",\"completed\":true,\"reason\":\"\",\"freedChunks\":" + freed
                        + ",\"freedBytes\":" + freedBytes + ",\"nodes\":\\{\"node-1\":" + node + ",\"node-2\":" + node
                        + ",\"node-3\":" + node + "\\},\"skippedNodes\":\\[\\],\"durationMillis\":" + summary.group(2) + "\\}",
                        out.get(4));
            }
            assertEquals(List.of(), run.errLines("gc: "), run.err());
        }
    }

    @Test
    void adminHealthPrintsANodeTableTheCensusAndTheStatusThenJson() {
        // A census first, so that the line about chunks below N has counts.
        assertEquals(0, cairn("admin", "repair", "--cluster", cluster.endpoints()).code());
        for (boolean json : new boolean[] {false, true}) {
            Run run = json ? cairn("admin", "health", "--json", "--cluster", cluster.endpoints())
                    : cairn("admin", "health", "--cluster", cluster.endpoints());
            assertEquals(0, run.code(), run.out() + run.err());
            List<String> out = run.lines();
            assertEquals(json ? 8 : 7, out.size(), run.out());
            assertEquals("NODE       REACHABLE  ROLE        TERM   COMMIT  APPLIED    LAG     CHUNKS       STORED", out.get(0));
            StringBuilder nodes = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                assertHealthRow(out.get(i + 1), "node-" + (i + 1));
                nodes.append(i == 0 ? "" : ",").append("\\{\"id\":\"node-").append(i + 1).append("\",\"endpoint\":\"")
                        .append(Pattern.quote(cluster.config(i).self().endpoint())).append("\",\"reachable\":true,"
                        + "\"role\":\"(?:LEADER|FOLLOWER)\",\"term\":\\d+,\"commitIndex\":\\d+,\"appliedIndex\":\\d+,"
                        + "\"lag\":\\d+,\"chunks\":\\d+,\"storedBytes\":\\d+\\}");
            }
            assertEquals("", out.get(4));
            assertEquals("chunks below N=3: 0, below N_W=2: 0 (last replication census; cairn admin repair runs one now)",
                    out.get(5));
            String leader = assertMatches("status: healthy \\(leader (node-[1-3]), 3 of 3 nodes live, N=3 N_W=2 N_R=2\\)",
                    out.get(6)).group(1);
            if (json) {
                assertMatches("\\{\"status\":\"healthy\",\"leader\":\"" + leader + "\",\"liveNodes\":3,\"replicas\":3,"
                        + "\"writeQuorum\":2,\"readQuorum\":2,\"nodes\":\\[" + nodes + "\\],\"underReplicatedChunks\":0,"
                        + "\"belowWriteQuorumChunks\":0\\}", out.get(7));
            }
        }
    }

    /** A reachable node's row of admin health: its columns at the widths CLI.md's scripts cut at. */
    static void assertHealthRow(String row, String node) {
        String[] c = row.trim().split(" +");
        assertEquals(10, c.length, "node, yes, role, term, commit, applied, lag, chunks, stored (2 words): " + row);
        assertEquals(node, c[0]);
        assertEquals("yes", c[1]);
        assertMatches("LEADER|FOLLOWER", c[2]);
        for (int k = 3; k < 8; k++) {
            assertMatches("\\d+", c[k]);
        }
        assertMatches(BYTES, c[8] + " " + c[9]);
        assertEquals(String.format("%-10s %-10s %-9s %6s %8s %8s %6s %10s %12s", c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                c[8] + " " + c[9]), row);
    }

    @Test
    void adminHealthOfAnUnreachableClusterSaysUnavailableWithJson() {
        for (boolean json : new boolean[] {false, true}) {
            Run run = json ? cairn("admin", "health", "--json", "--cluster", "127.0.0.1:1")
                    : cairn("admin", "health", "--cluster", "127.0.0.1:1");
            assertEquals(2, run.code(), run.out() + run.err());
            List<String> out = run.lines();
            assertEquals(json ? 2 : 1, out.size(), run.out());
            assertMatches("status: unavailable \\(.*cluster unreachable.*\\)", out.get(0));
            if (json) {
                assertEquals("{\"status\":\"unavailable\",\"leader\":null,\"liveNodes\":0,\"nodes\":[],"
                        + "\"underReplicatedChunks\":null}", out.get(1));
            }
        }
    }

    @Test
    void adminNodesPrintsTheMembersAndJsonLast() {
        for (boolean json : new boolean[] {false, true}) {
            Run run = json ? cairn("admin", "nodes", "--json", "--cluster", cluster.endpoints())
                    : cairn("admin", "nodes", "--cluster", cluster.endpoints());
            assertEquals(0, run.code(), run.out() + run.err());
            List<String> out = run.lines();
            assertEquals(json ? 6 : 5, out.size(), run.out());
            assertEquals("NODE         ENDPOINT               ZONE       STATE    RAFT", out.get(0));
            StringBuilder nodes = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                dev.cairn.config.NodeAddress a = cluster.config(i).self();
                assertMatches(Pattern.quote(String.format("%-12s %-22s %-10s %-8s ", a.id(), a.endpoint(), "-", "active"))
                        + "(?:LEADER|FOLLOWER)", out.get(i + 1));
                nodes.append(i == 0 ? "" : ",").append("\\{\"id\":\"").append(a.id()).append("\",\"endpoint\":\"")
                        .append(Pattern.quote(a.endpoint())).append("\",\"raftPort\":").append(a.raftPort())
                        .append(",\"httpPort\":").append(a.httpPort()).append(",\"zone\":null,\"state\":\"active\","
                        + "\"inRaftGroup\":true,\"raftRole\":\"(?:LEADER|FOLLOWER)\",\"reachable\":true\\}");
            }
            String index = assertMatches("3 members, membership index (\\d+)", out.get(4)).group(1);
            if (json) {
                assertMatches("\\{\"membershipIndex\":" + index + ",\"nodes\":\\[" + nodes
                        + "\\],\"raftPeers\":\\[\"node-1\",\"node-2\",\"node-3\"\\]\\}", out.get(5));
            }
        }
    }

    private static void assertOneLineError(Run r, String expected) {
        String err = r.err().strip();
        assertTrue(err.startsWith("cairn: ") && err.contains(expected), err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertFalse(err.contains("Exception"), "no exception names: " + err);
    }
}
