package dev.cairn.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A small run of {@code cairn bench store --json}: every workload ran as asked and the figures add up. */
class BenchStoreTest {

    @TempDir
    Path dir;

    @Test
    void aSmallRunReportsEveryWorkloadAndLeavesNoScratchFiles() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = new CommandLine(new BenchMain()).execute("store", "--dir", dir.toString(), "--size", "16m",
                    "--small-appends", "640", "--small-baseline-seconds", "1", "--json");
        } finally {
            System.setOut(oldOut);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        String[] lines = text.strip().split("\n");
        assertTrue(lines[0].startsWith("workload A"), text);
        assertTrue(lines[1].startsWith("workload B"), text);
        assertTrue(lines[2].startsWith("bound B"), text);
        JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);

        assertEquals(16L * 1024 * 1024, json.get("bytesA").asLong());
        assertEquals(256, json.get("appendsA").asLong()); // 16 MiB of 64 KiB chunks
        assertEquals(640, json.get("appendsB").asLong());
        // Group commit: never more fdatasyncs than appends, and at least one.
        assertTrue(json.get("fdatasyncsA").asLong() >= 1 && json.get("fdatasyncsA").asLong() <= 256, text);
        assertTrue(json.get("fdatasyncsB").asLong() >= 1 && json.get("fdatasyncsB").asLong() <= 640, text);
        for (String rate : new String[] {"storeMBps", "baselineMBps", "storeAppendsPerSec", "baselineSyncedWritesPerSec",
                "boundAppendsPerSec"}) {
            assertTrue(json.get(rate).asDouble() > 0, rate + " in " + text);
        }
        assertEquals(json.get("storeMBps").asDouble() / json.get("baselineMBps").asDouble(),
                json.get("ratio").asDouble(), 0.01, text);
        assertEquals(json.get("boundAppendsPerSec").asDouble() / json.get("baselineSyncedWritesPerSec").asDouble(),
                json.get("smallRatioBound").asDouble(), 0.01 * json.get("smallRatioBound").asDouble() + 0.01, text);
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(0, left.count(), "the scratch directory is removed");
        }
    }

    @Test
    void aBadSizeIsRefusedWithAMessageNotAStackTrace() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = new CommandLine(new BenchMain()).execute("store", "--dir", dir.toString(), "--size", "12q");
        } finally {
            System.setErr(oldErr);
        }
        assertEquals(2, code);
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("--size must be a number of bytes"), text);
        assertTrue(!text.contains("\tat "), text);
    }
}
