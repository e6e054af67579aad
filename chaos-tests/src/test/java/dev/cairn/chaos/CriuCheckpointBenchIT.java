package dev.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.MountableFile;

/**
 * A benchmark of checkpointing through Cairn with real criu: what a dump costs and how long a
 * restore waits, the classic way (criu to disk, then put; get, then criu restore) against Cairn's
 * page server (ingest at dump time; lazy restore), alternating, on a process with a few hundred
 * MB of memory it checks after every restore.
 *
 * <p>The benchmark runs only when asked: {@code -Dcairn.bench.criu=true}, with {@code
 * -Dcairn.bench.criu.mb} (default 300) and {@code -Dcairn.bench.criu.reps} (default 3);
 * docs/benchmarks.md, "Checkpointing (CRIU)", gives the command and the figures. It prints one
 * table and, last, one JSON line (also written to {@code criu-bench/result.json} under the chaos
 * output folder). Without it, a smoke run of one repetition on 16 MB keeps the steps working in
 * {@code ./mvnw verify}: both restores must bring back a process whose every page checks; its
 * times are printed, never asserted. With {@code -Dcairn.bench.criu.agent=true} a {@code cairn
 * agent} runs in the container and every cairn command of both ways goes to it through {@code
 * bin/cairn}, as on a checkpoint host with an agent.
 */
class CriuCheckpointBenchIT {

    private static final String SCRIPT = CriuContainer.scriptPath("criu-bench.sh");
    private static final String MEMORY_PROGRAM = "criu-bench-mem.pl";
    private static final String BENCH = "cairn.bench.criu";
    private static final String AGENT = BENCH + ".agent";

    @Test
    @EnabledIfSystemProperty(named = BENCH, matches = "true")
    void checkpointAndRestoreThroughCairnAgainstDiskThenPut() throws Exception {
        run("criu-bench", Integer.getInteger(BENCH + ".mb", 300), Integer.getInteger(BENCH + ".reps", 3), true);
    }

    @Test
    @DisabledIfSystemProperty(named = BENCH, matches = "true")
    void bothRestoresOfBothDumpsBringBackMemoryThatChecks() throws Exception {
        run("criu-bench-smoke", 16, 1, false);
    }

    private static void run(String name, int mb, int reps, boolean measureMachine) throws Exception {
        ChaosEnv env = ChaosEnv.require();
        Path dir = env.out.resolve(name);
        Files.createDirectories(dir);
        String started = Instant.now().toString();
        try (ChaosCluster cluster = ChaosCluster.start(env, 3, dir.resolve("config"));
             GenericContainer<?> criu = CriuContainer.create(env, cluster, "criu-bench.sh")) {
            criu.withCopyFileToContainer(MountableFile.forClasspathResource(MEMORY_PROGRAM, 0755),
                    CriuContainer.scriptPath(MEMORY_PROGRAM)).withEnv("CRIU_TIMEOUT", "300");
            boolean agent = Boolean.getBoolean(AGENT);
            if (agent) { // bin/cairn beside the bound-in client jars; it needs only bash and coreutils to hand commands over
                criu.withCopyFileToContainer(MountableFile.forHostPath(env.root.resolve("bin/cairn"), 0755),
                        ChaosEnv.CAIRN_IN_CONTAINER + "/bin/cairn").withEnv("CAIRN_BENCH_AGENT", "1");
            }
            criu.start();
            try {
                Container.ExecResult probe = criu.execInContainer(SCRIPT, "check");
                Assumptions.assumeTrue(probe.getExitCode() == 0, () -> "CRIU benchmark skipped: this kernel ("
                        + System.getProperty("os.version") + ") cannot restore lazily: "
                        + (probe.getStdout() + probe.getStderr()).strip().replace('\n', ' '));
                Map<String, String> machine = new LinkedHashMap<>(measureMachine ? step(criu, "machine") : Map.of());
                if (agent) {
                    step(criu, "agent");
                    machine.put("agent", "true");
                }
                List<Map<String, String>> rounds = new ArrayList<>();
                for (int rep = 1; rep <= reps; rep++) {
                    rounds.add(round(criu, rep, mb));
                }
                BenchReport report = new BenchReport(started, mb, machine, rounds);
                String json = report.json();
                System.out.println(report.table());
                System.out.println(json);
                Files.writeString(dir.resolve("result.json"), json + "\n", StandardCharsets.UTF_8);
            } finally {
                CriuContainer.copyOut(criu, "/lazy-logs/lazy-pages.log", dir.resolve("last-lazy-pages.log"));
                CriuContainer.copyOut(criu, "/lazy-logs/restore.log", dir.resolve("last-lazy-restore.log"));
                CriuContainer.copyOut(criu, "/tmp/agent.log", dir.resolve("agent.log"));
                cluster.writeLogs(dir);
            }
        }
    }

    /**
     * One repetition: two fresh processes dumped, (a) to disk then put and (b) through the page
     * server, then each image restored, (a) got then restored and (b) lazily; odd repetitions
     * start with (a), even ones with (b), so neither way always runs on the warmer machine.
     */
    private static Map<String, String> round(GenericContainer<?> criu, int rep, int mb) throws Exception {
        String a = "bench/disk-" + rep;
        String b = "bench/ingest-" + rep;
        boolean aFirst = rep % 2 == 1;
        Map<String, String> row = new LinkedHashMap<>();
        row.put("rep", Integer.toString(rep));
        for (boolean diskWay : aFirst ? new boolean[] {true, false} : new boolean[] {false, true}) {
            step(criu, "start", Integer.toString(mb));
            row.putAll(prefixed(diskWay ? "a." : "b.", step(criu, diskWay ? "dump-put" : "ingest", diskWay ? a : b)));
        }
        for (boolean diskWay : aFirst ? new boolean[] {true, false} : new boolean[] {false, true}) {
            Map<String, String> r = step(criu, diskWay ? "get-restore" : "lazy", diskWay ? a : b);
            assertTrue(r.getOrDefault("touched", "").startsWith("ok") && r.getOrDefault("verified", "").startsWith("ok"),
                    () -> "a restored process did not verify its memory: " + r);
            assertEquals(Integer.toString(mb * 256), r.get("verified").substring(3),
                    () -> "the restored process did not check all its pages: " + r);
            row.putAll(prefixed(diskWay ? "ra." : "rb.", r));
        }
        System.out.println("chaos: criu bench round " + row);
        return row;
    }

    private static Map<String, String> prefixed(String prefix, Map<String, String> values) {
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((k, v) -> out.put(prefix + k, v));
        return out;
    }

    /** Runs a step of the script; fails the test with its output unless it exits 0; returns its KEY=VALUE lines. */
    private static Map<String, String> step(GenericContainer<?> c, String... args) throws Exception {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : CriuContainer.step(c, SCRIPT, args).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        return values;
    }

    /** The figures of a run: one row per repetition, medians, ratios against the targets. */
    record BenchReport(String started, int mb, Map<String, String> machine, List<Map<String, String>> rounds) {

        static final double INGEST_TARGET = 0.6;
        static final double LAZY_TARGET = 0.2;

        /** The median of one key over the repetitions. */
        double median(String key) {
            return medianOf(r -> Double.parseDouble(r.get(key)));
        }

        /** The median over the repetitions of a figure computed from each one's values. */
        double medianOf(Function<Map<String, String>, Double> figure) {
            List<Double> xs = rounds.stream().map(figure).sorted().toList();
            int n = xs.size();
            return n % 2 == 1 ? xs.get(n / 2) : (xs.get(n / 2 - 1) + xs.get(n / 2)) / 2;
        }

        double ingestRatio() {
            return median("b.cMs") / median("a.cMs");
        }

        double lazyRatio() {
            return median("rb.runningMs") / median("ra.runningMs");
        }

        String table() {
            List<String> lines = new ArrayList<>();
            lines.add(String.format(Locale.ROOT, "criu bench: %d MB, %d repetitions, started %s, machine %s", mb,
                    rounds.size(), started, machine));
            lines.add(row("rep", "C (a) dump+put ms", "C (b) ingest ms", "frozen (a) / (b) ms", "dump / put (a) ms",
                    "running (a) get+restore ms", "get / restore (a) ms", "running (b) lazy ms", "(b) files written ms",
                    "touch 1/10 (a) / (b) ms", "(b) pages in at touch / #PF", "(b) all pages in ms",
                    "(b) pages served / requests", "C (b) / (a)", "running (b) / (a)"));
            lines.add(row(Collections.nCopies(15, "---").toArray(String[]::new)));
            for (Map<String, String> r : rounds) {
                lines.add(row(r.get("rep"), r.get("a.cMs"), r.get("b.cMs"),
                        pair(whole(ms(r, "a.frozenUs")), whole(ms(r, "b.frozenUs"))), pair(r.get("a.dumpMs"), r.get("a.putMs")),
                        r.get("ra.runningMs"), pair(r.get("ra.getMs"), r.get("ra.restoreMs")), r.get("rb.runningMs"),
                        r.get("rb.serveMs"), pair(r.get("ra.touchMs"), r.get("rb.touchMs")),
                        pair(r.get("rb.pagesAtTouch"), r.get("rb.pfAtTouch")), r.get("rb.allInMs"),
                        pair(r.get("rb.servedPages"), r.get("rb.servedRequests")), two(ratio(r, "b.cMs", "a.cMs")),
                        two(ratio(r, "rb.runningMs", "ra.runningMs"))));
            }
            lines.add(row("median", whole(median("a.cMs")), whole(median("b.cMs")),
                    pair(whole(median("a.frozenUs") / 1000), whole(median("b.frozenUs") / 1000)), "",
                    whole(median("ra.runningMs")), "", whole(median("rb.runningMs")), "", "", "", whole(median("rb.allInMs")), "",
                    two(medianOf(r -> ratio(r, "b.cMs", "a.cMs"))), two(medianOf(r -> ratio(r, "rb.runningMs", "ra.runningMs")))));
            lines.add(String.format(Locale.ROOT, "ingest C / dump-then-put C = %.2f (target <= %.1f); "
                    + "lazy running / get-then-restore running = %.2f (target <= %.1f)", ingestRatio(), INGEST_TARGET,
                    lazyRatio(), LAZY_TARGET));
            return String.join("\n", lines);
        }

        private static String row(String... cells) {
            return "| " + String.join(" | ", cells) + " |";
        }

        private static String pair(String a, String b) {
            return a + " / " + b;
        }

        private static String whole(double x) {
            return String.format(Locale.ROOT, "%.0f", x);
        }

        private static String two(double x) {
            return String.format(Locale.ROOT, "%.2f", x);
        }

        private static double ratio(Map<String, String> r, String over, String under) {
            return Double.parseDouble(r.get(over)) / Double.parseDouble(r.get(under));
        }

        private static double ms(Map<String, String> r, String key) {
            return Double.parseDouble(r.getOrDefault(key, "0")) / 1000;
        }

        String json() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("started", started);
            j.put("memoryMB", mb);
            j.put("repetitions", rounds.size());
            machine.forEach((k, v) -> j.put("machine" + Character.toUpperCase(k.charAt(0)) + k.substring(1), v));
            j.put("imagePagesWrittenA", median("a.pagesWritten"));
            j.put("dumpThenPutCMs", median("a.cMs"));
            j.put("ingestCMs", median("b.cMs"));
            j.put("dumpThenPutFrozenMs", median("a.frozenUs") / 1000);
            j.put("ingestFrozenMs", median("b.frozenUs") / 1000);
            j.put("ingestRatio", round2(ingestRatio()));
            j.put("ingestRatioMedianOfReps", round2(medianOf(r -> ratio(r, "b.cMs", "a.cMs"))));
            j.put("getThenRestoreRunningMs", median("ra.runningMs"));
            j.put("lazyRunningMs", median("rb.runningMs"));
            j.put("lazyRatio", round2(lazyRatio()));
            j.put("lazyRatioMedianOfReps", round2(medianOf(r -> ratio(r, "rb.runningMs", "ra.runningMs"))));
            j.put("lazyPagesAtTouch", median("rb.pagesAtTouch"));
            j.put("lazyPageFaultsAtTouch", median("rb.pfAtTouch"));
            j.put("lazyPagesCopied", median("rb.pagesCopied"));
            j.put("lazyServedPages", median("rb.servedPages"));
            j.put("lazyServedRequests", median("rb.servedRequests"));
            j.put("lazyAllInMs", median("rb.allInMs"));
            j.put("lazyTouchTenthMs", median("rb.touchMs"));
            j.put("getRestoreTouchTenthMs", median("ra.touchMs"));
            j.put("lazyLocalPagesAllocatedBytes", median("rb.localPagesAllocated"));
            StringBuilder s = new StringBuilder("{");
            j.forEach((k, v) -> s.append(s.length() > 1 ? "," : "").append('"').append(k).append("\":")
                    .append(v instanceof String str && !str.matches("-?\\d+(\\.\\d+)?") ? "\"" + str + "\"" : v));
            return s.append('}').toString();
        }

        private static double round2(double x) {
            return Math.round(x * 100) / 100.0;
        }
    }
}
