package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.client.ClientTestHooks;
import dev.cairn.client.GcReport;
import dev.cairn.client.CairnException;
import dev.cairn.engine.ChunkId;
import dev.cairn.server.CairnServer;
import dev.cairn.server.metrics.NodeMetrics;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Epoch mark-and-sweep GC on real 3-node clusters, with puts running concurrently. */
class GcTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void gcFreesTheChunksOnlyADeletedImageHadAndKeepsTheSharedOnes() throws Exception {
        byte[] shared = TestImages.random(1, 2 * 1024 * 1024);
        byte[] a = concat(shared, TestImages.random(2, 1024 * 1024));
        byte[] b = concat(shared, TestImages.random(3, 1024 * 1024));
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("a", new ByteArrayInputStream(a));
            client.put("b", new ByteArrayInputStream(b));
            Set<ChunkId> onlyA = new HashSet<>(CairnAdmin.of(client).referencedChunks(client.stat("a")));
            Set<ChunkId> ofB = CairnAdmin.of(client).referencedChunks(client.stat("b"));
            onlyA.removeAll(ofB);
            assertTrue(onlyA.size() > 5, "a and b differ in " + onlyA.size() + " chunks");
            long before = chunks(cluster);

            client.delete("a");
            GcReport report = CairnAdmin.of(client).gc(WAIT);
            assertTrue(report.completed(), report.abandonedBecause() + " " + report.log());
            long after = chunks(cluster);
            System.out.printf("gc: %d -> %d chunks on 3 nodes; freed %d chunks, %d bytes in %d ms%n", before, after,
                    report.freedChunks(), report.freedBytes(), report.durationMillis());
            assertEquals(before - after, report.freedChunks());
            // Every replica of every chunk only a had is gone; b's chunks are all still there.
            assertEquals(3L * onlyA.size(), report.freedChunks(), report.log().toString());
            for (int i = 0; i < 3; i++) {
                CairnServer s = cluster.server(i);
                onlyA.forEach(id -> assertFalse(s.store().contains(id), "node " + s.config().nodeId() + " still has " + id));
            }
            assertArrayEquals(b, TestImages.read(client, "b"));
            System.out.println("gc log: " + report.log());

            // Nothing more to free; through the CLI this time.
            CliTest.Run cli = CliTest.cairn("admin", "gc", "--json", "--cluster", cluster.endpoints());
            assertEquals(0, cli.code(), cli.out() + cli.err());
            String[] lines = cli.out().strip().split("\n");
            assertTrue(lines[lines.length - 1].contains("\"freedChunks\":0"), cli.out());
            // The coordinator's phases (report.log() above) reach stderr only on a terminal (CLI.md).
            assertFalse(cli.err().contains("may sweep"), cli.err());
            assertArrayEquals(b, TestImages.read(client, "b"));
        }
    }

    @Test
    void concurrentPutsDeletesAndGcNeverLoseACommittedImage() throws Exception {
        long seed = 42;
        long runMillis = 20_000;
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            // A few bases so that new images keep reusing chunks of deleted ones (HAS "present").
            List<byte[]> bases = List.of(TestImages.random(seed, 512 * 1024), TestImages.random(seed + 1, 512 * 1024), TestImages.random(seed + 2, 512 * 1024));
            Map<String, byte[]> kept = new ConcurrentHashMap<>();
            Map<String, byte[]> temporary = new ConcurrentHashMap<>();
            List<String> failures = new CopyOnWriteArrayList<>();
            List<GcReport> epochs = new CopyOnWriteArrayList<>();
            AtomicLong gets = new AtomicLong();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(runMillis);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> jobs = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int writer = w;
                jobs.add(pool.submit(() -> {
                    Random rnd = new Random(seed * 31 + writer);
                    for (int i = 0; System.nanoTime() < end; i++) {
                        byte[] data = concat(bases.get(rnd.nextInt(bases.size())), TestImages.random(rnd.nextLong(), 64 * 1024 + rnd.nextInt(256 * 1024)));
                        boolean keep = rnd.nextInt(3) == 0;
                        String name = (keep ? "keep/" : "tmp/") + writer + "-" + i;
                        client.put(name, new ByteArrayInputStream(data));
                        (keep ? kept : temporary).put(name, data);
                        if (!temporary.isEmpty() && rnd.nextBoolean()) {
                            String victim = temporary.keySet().iterator().next();
                            if (temporary.remove(victim) != null) {
                                client.delete(victim);
                            }
                        }
                    }
                    return null;
                }));
            }
            jobs.add(pool.submit(() -> {
                while (System.nanoTime() < end) {
                    epochs.add(CairnAdmin.of(client).gc(WAIT));
                }
                return null;
            }));
            jobs.add(pool.submit(() -> {
                Random rnd = new Random(seed + 7);
                while (System.nanoTime() < end) {
                    List<String> names = new ArrayList<>(kept.keySet());
                    if (names.isEmpty()) {
                        Thread.onSpinWait();
                        continue;
                    }
                    String name = names.get(rnd.nextInt(names.size()));
                    try {
                        if (!java.util.Arrays.equals(kept.get(name), TestImages.read(client, name))) {
                            failures.add(name + " read back different bytes");
                        }
                        gets.incrementAndGet();
                    } catch (CairnException e) {
                        failures.add(name + ": " + e.getMessage());
                    }
                }
                return null;
            }));
            for (Future<?> job : jobs) {
                job.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();

            GcReport last = CairnAdmin.of(client).gc(WAIT);
            epochs.add(last);
            assertTrue(failures.isEmpty(), failures.toString());
            long completed = epochs.stream().filter(GcReport::completed).count();
            long freed = epochs.stream().mapToLong(GcReport::freedChunks).sum();
            long freedBytes = epochs.stream().mapToLong(GcReport::freedBytes).sum();
            System.out.printf("concurrent: %d epochs (%d completed), freed %d chunks / %d bytes; %d kept + %d temporary"
                    + " images, %d gets%n", epochs.size(), completed, freed, freedBytes, kept.size(), temporary.size(), gets.get());
            epochs.stream().filter(r -> !r.completed()).forEach(r -> System.out.println("abandoned: " + r.abandonedBecause()));
            assertTrue(last.completed(), last.abandonedBecause());
            assertTrue(completed >= 2, completed + " epochs completed");
            assertTrue(freed > 0, "nothing was freed");
            for (Map<String, byte[]> images : List.of(kept, temporary)) {
                for (Map.Entry<String, byte[]> e : images.entrySet()) {
                    assertArrayEquals(e.getValue(), TestImages.read(client, e.getKey()), e.getKey());
                }
            }
        }
    }

    @Test
    void aPutWhoseSessionExpiredBeforeTheSweepIsRefusedNotCommitted() throws Exception {
        byte[] data = TestImages.random(21, 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client(Duration.ofSeconds(4))) {
            // A client cut off from the catalog after its upload: none of its renewals gets through.
            ClientTestHooks.sessionRenewals(client, new ClientTestHooks.Renewals() {
                @Override
                public void beforeRenewal(java.util.UUID session) {
                    throw new IllegalStateException("test: renewal lost");
                }
            });
            try (HeldPut put = HeldPut.start(client, "late", data)) {
                long before = chunks(cluster);

                // The session was opened before the epoch: GC waits for its lease, then sweeps its chunks.
                GcReport report = CairnAdmin.of(client).gc(WAIT);
                assertTrue(report.completed(), report.abandonedBecause());
                System.out.printf("expired session: epoch took %d ms, freed %d chunks; %s%n", report.durationMillis(),
                        report.freedChunks(), report.log());
                assertTrue(report.freedChunks() > 0 && chunks(cluster) < before, report.toString());
                put.release();

                Exception refused = assertThrows(Exception.class, () -> put.result().get(60, TimeUnit.SECONDS));
                assertTrue(refused.getCause() instanceof CairnException.SessionExpired, String.valueOf(refused.getCause()));
                assertThrows(CairnException.ImageNotFound.class, () -> client.stat("late"));
            }

            // Put again, with a client that renews: the chunks GC swept are uploaded again, and the image reads back.
            try (CairnClient renewing = cluster.client()) {
                renewing.put("late", new ByteArrayInputStream(data));
                assertArrayEquals(data, TestImages.read(renewing, "late"));
            }
        }
    }

    @Test
    void aPutWhoseSessionPredatesTheEpochAndCommitsDuringItIsKept() throws Exception {
        byte[] data = TestImages.random(31, 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try (HeldPut put = HeldPut.start(client, "straddles", data)) {
                Future<GcReport> gc = pool.submit(() -> CairnAdmin.of(client).gc(WAIT));
                // The commit goes in only once the epoch has begun: GC must wait for this session.
                while (cluster.server(0).meta().gcEpoch() < 1 && !gc.isDone()) {
                    Thread.onSpinWait();
                }
                put.release();
                put.result().get(60, TimeUnit.SECONDS);
                GcReport report = gc.get(60, TimeUnit.SECONDS);
                assertTrue(report.completed(), report.abandonedBecause());
                assertEquals(0, report.freedChunks(), report.log().toString());
                assertArrayEquals(data, TestImages.read(client, "straddles"));
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void progressLinesArriveWhileTheEpochRunsNotOnlyAtItsEnd() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try (HeldPut put = HeldPut.start(client, "held", TestImages.random(32, 256 * 1024))) {
                // The epoch cannot end while the put's session is open, so any line seen now came while it ran.
                List<String> progress = new CopyOnWriteArrayList<>();
                Future<GcReport> gc = pool.submit(() -> CairnAdmin.of(client).gc(WAIT, progress::add));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (progress.stream().noneMatch(l -> l.contains("waiting for upload sessions"))) {
                    assertTrue(System.nanoTime() < deadline, "no progress line while the epoch waits: " + progress);
                    assertFalse(gc.isDone(), "the epoch ended while the session was open: " + progress);
                    Thread.sleep(20);
                }
                assertTrue(progress.stream().anyMatch(l -> l.contains("arming 3 nodes")), progress.toString());
                assertEquals(NodeMetrics.GcPhase.WAITING_FOR_SESSIONS, cluster.server(0).metrics().gcPhase(),
                        "node-1 coordinates (the first node that answers)");
                put.release();
                put.result().get(60, TimeUnit.SECONDS);
                GcReport report = gc.get(60, TimeUnit.SECONDS);
                assertTrue(report.completed(), report.abandonedBecause());
                // Every line of the report's log reached the listener once, in order.
                assertEquals(report.log(), progress);
                assertEquals(NodeMetrics.GcPhase.IDLE, cluster.server(0).metrics().gcPhase());
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void anEpochWithANodeDownIsAbandonedBeforeAnythingIsSwept() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("x", new ByteArrayInputStream(TestImages.random(41, 512 * 1024)));
            client.delete("x");
            long before = chunks(cluster);
            cluster.stopNode(2);
            GcReport report = CairnAdmin.of(client).gc(WAIT);
            assertFalse(report.completed());
            assertTrue(report.abandonedBecause().contains("GC_ARM") && report.abandonedBecause().contains("node-3"),
                    report.abandonedBecause());
            assertEquals(0, report.freedChunks());
            assertEquals(before, cluster.server(0).store().chunkCount() + cluster.server(1).store().chunkCount()
                    + before / 3, "nothing swept");
            CliTest.Run cli = CliTest.cairn("admin", "gc", "--json", "--cluster", cluster.endpoints());
            assertEquals(1, cli.code(), cli.out() + cli.err());
            // No node swept, so no node lines: the summary with the reason, then the JSON.
            List<String> out = cli.lines();
            assertEquals(2, out.size(), cli.out());
            java.util.regex.Matcher summary = CliTest.assertMatches("summary: epoch (\\d+) abandoned: (.*GC_ARM.*node-3.*); "
                    + "\\d+ images, \\d+ live chunk references; freed 0 chunks, 0 B in (\\d+) ms", out.get(0));
            assertEquals("{\"epoch\":" + summary.group(1) + ",\"completed\":false,\"reason\":"
                    + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(summary.group(2))
                    + ",\"freedChunks\":0,\"freedBytes\":0,\"nodes\":{},\"skippedNodes\":[],\"durationMillis\":"
                    + summary.group(3) + "}", out.get(1));
        }
    }

    private static long chunks(TestCluster cluster) {
        long n = 0;
        for (int i = 0; i < 3; i++) {
            n += cluster.server(i).store().chunkCount();
        }
        return n;
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] r = new byte[x.length + y.length];
        System.arraycopy(x, 0, r, 0, x.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }
}
