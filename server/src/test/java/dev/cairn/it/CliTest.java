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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cairn command line against a real cluster: outputs, JSON last lines, one-line errors and exit codes. */
class CliTest {

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

    record Run(int code, String out, String err) {
        String lastLine() {
            String[] lines = out.strip().split("\n");
            return lines[lines.length - 1];
        }
    }

    static synchronized Run cairn(String... args) {
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

        // The archive estimates as the same image: the same chunks, so nothing more is unique.
        Run both = cairn("estimate", "--json", dir.resolve("tar-src").toString());
        Run fromTar = cairn("estimate", "--json", "--tar", archive.toString());
        assertEquals(0, fromTar.code(), fromTar.err());
        assertEquals(new ObjectMapper().readTree(both.lastLine()).get("storedBytes"),
                new ObjectMapper().readTree(fromTar.lastLine()).get("storedBytes"));
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

    private static void assertOneLineError(Run r, String expected) {
        String err = r.err().strip();
        assertTrue(err.startsWith("cairn: ") && err.contains(expected), err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertFalse(err.contains("Exception"), "no exception names: " + err);
    }
}
