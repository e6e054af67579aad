package dev.cairn.server.store;

import static dev.cairn.server.store.TestChunks.bytesOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a real process that appends to the store: every chunk it acknowledged reads back
 * byte-exact after the store is reopened, however often and wherever the process died.
 */
class ChunkStoreProcessCrashTest {

    private static final long BUDGET_NS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_ITERATIONS = 25;
    private static final int WRITER_THREADS = 6;

    @TempDir
    Path dir;

    private record Ack(long seed, int thread, int index) {}

    @Test
    void everyAcknowledgedChunkSurvivesSigkillAtRandomMoments() throws Exception {
        long testSeed = Long.getLong("cairn.crash.seed", System.nanoTime());
        Random random = new Random(testSeed);
        Path store = dir.resolve("store");
        List<Ack> acknowledged = new ArrayList<>();
        long start = System.nanoTime();
        int iterations = 0;
        while (iterations < MAX_ITERATIONS && System.nanoTime() - start < BUDGET_NS) {
            long childSeed = random.nextLong();
            long killAfterMs = 20 + random.nextInt(1200);
            String where = "seed " + testSeed + " (rerun with -Dcairn.crash.seed=" + testSeed + "), iteration "
                    + iterations + ", kill after " + killAfterMs + " ms";
            List<Ack> acks = runAndKill(store, childSeed, killAfterMs, where);
            acknowledged.addAll(acks);
            iterations++;

            try (ChunkStore reopened = ChunkStore.open(store, CrashingAppender.options())) {
                assertTrue(!reopened.isFailed(), where);
                for (Ack ack : acknowledged) {
                    ChunkData expected = CrashingAppender.chunk(ack.seed(), ack.thread(), ack.index());
                    Optional<ChunkData> read = reopened.read(expected.id());
                    assertTrue(read.isPresent(), "acknowledged chunk " + expected.id().shortHex() + " lost; " + where);
                    assertArrayEquals(bytesOf(expected), bytesOf(read.get()), where);
                }
                assertEquals(0, reopened.recovery().quarantinedRegions(), "corruption found; " + where);
            }
        }
        System.out.printf("crash test: %d kills, %d acknowledged chunks checked, seed %d%n", iterations,
                acknowledged.size(), testSeed);
        assertTrue(iterations >= 3, "only " + iterations + " iterations in the time budget");
        assertTrue(acknowledged.size() > 100, "only " + acknowledged.size() + " acknowledgements; seed " + testSeed);
    }

    private List<Ack> runAndKill(Path store, long childSeed, long killAfterMs, String where) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Its temp dir is the test's: RocksDB copies its native library there at every start, and a
        // killed child never removes the copy (15 MB each).
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-Djava.io.tmpdir=" + dir,
                "-cp", System.getProperty("java.class.path"),
                CrashingAppender.class.getName(), store.toString(), Long.toString(childSeed),
                Integer.toString(WRITER_THREADS));
        builder.redirectError(dir.resolve("child-stderr.log").toFile());
        // stdout goes to a file, not a pipe: after a kill, Process' pipe stream can be closed under a
        // reader, while the file keeps every line the child wrote before it died.
        Path acksFile = dir.resolve("child-stdout.log");
        builder.redirectOutput(acksFile.toFile());
        Process child = builder.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(acksFile, StandardCharsets.ISO_8859_1).startsWith("ready\n")) {
                assertTrue(child.isAlive() && System.nanoTime() < deadline,
                        "child did not start (see child-stderr.log); " + where);
                Thread.sleep(5);
            }
            Thread.sleep(killAfterMs);
        } finally {
            child.destroyForcibly(); // SIGKILL
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), where);
        }
        String out = Files.readString(acksFile, StandardCharsets.ISO_8859_1);
        List<Ack> acks = new ArrayList<>();
        // Only a line with its newline counts: a line cut by the kill ("ack 3 1" of "ack 3 12") is
        // not an acknowledgement.
        String[] lines = out.substring(0, out.lastIndexOf('\n') + 1).split("\n");
        for (int i = 1; i < lines.length; i++) {
            String[] parts = lines[i].split(" ");
            assertTrue(parts.length == 3 && parts[0].equals("ack"), "unexpected line '" + lines[i] + "'; " + where);
            acks.add(new Ack(childSeed, Integer.parseInt(parts[1]), Integer.parseInt(parts[2])));
        }
        return acks;
    }
}
