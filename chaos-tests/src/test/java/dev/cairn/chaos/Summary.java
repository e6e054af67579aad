package dev.cairn.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code target/chaos/summary.json}: {@code {"runs": [{name, seed, nemeses, ops, acked, lost,
 * corrupt, violations, doubleCommits, gcEpochs, gcCompleted, gcFreedChunks, seconds}], "criu":
 * {dumped, restored, verified}}}, rewritten after every run of this test JVM.
 */
final class Summary {

    private static final List<Map<String, Object>> RUNS = new ArrayList<>();
    private static Map<String, Object> criu = new LinkedHashMap<>();

    static {
        criu.put("dumped", false);
        criu.put("restored", false);
        criu.put("verified", false);
    }

    private Summary() {}

    static synchronized void run(Path out, String name, long seed, List<String> nemeses, Checker.Result r, double seconds) {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("name", name);
        run.put("seed", seed);
        run.put("nemeses", nemeses);
        run.put("ops", r.ops());
        run.put("acked", r.acked());
        run.put("lost", r.lost());
        run.put("corrupt", r.corrupt());
        run.put("violations", r.violations().size());
        run.put("doubleCommits", r.doubleCommits().size());
        run.put("gcEpochs", r.gcEpochs());
        run.put("gcCompleted", r.gcCompleted());
        run.put("gcFreedChunks", r.gcFreedChunks());
        run.put("seconds", Math.round(seconds));
        RUNS.removeIf(m -> m.get("name").equals(name));
        RUNS.add(run);
        write(out);
    }

    static synchronized void criu(Path out, boolean dumped, boolean restored, boolean verified, List<Map<String, Object>> rounds) {
        criu = new LinkedHashMap<>();
        criu.put("dumped", dumped);
        criu.put("restored", restored);
        criu.put("verified", verified);
        criu.put("rounds", rounds);
        write(out);
    }

    private static void write(Path out) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("runs", RUNS);
        doc.put("criu", criu);
        try {
            Files.createDirectories(out);
            Files.writeString(out.resolve("summary.json"),
                    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc) + "\n");
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + out.resolve("summary.json") + ": " + e.getMessage(), e);
        }
    }
}
