package dev.cairn.it;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.ClientConfig;
import dev.cairn.config.ConfigFiles;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of all three {@code cairn server} processes in the middle of a stream of puts: after a
 * restart with the same configs, every image whose put returned reads back byte-exact.
 */
class ClusterCrashTest {

    private static final int NODES = 3;
    private static final int MAX_IMAGE_BYTES = 3 * 1024 * 1024;
    /** The whole test, both starts included, ends within this (three JVMs on a loaded 2-core box take ~40 s to elect). */
    private static final long TEST_BUDGET_NS = TimeUnit.SECONDS.toNanos(85);

    @TempDir
    Path dir;

    private final List<NodeConfig> configs = new ArrayList<>();
    private final List<Path> configFiles = new ArrayList<>();
    private final Process[] processes = new Process[NODES];
    private final long testDeadline = System.nanoTime() + TEST_BUDGET_NS;

    @Test
    void everyAcknowledgedImageReadsBackAfterSigkillOfAllThreeNodes() throws Exception {
        long seed = Long.getLong("cairn.crash.seed", System.nanoTime());
        String where = "seed " + seed + " (rerun with -Dcairn.crash.seed=" + seed + "; logs in each node's server.log)";
        Random random = new Random(seed);
        writeConfigs();
        List<String> acknowledged = new CopyOnWriteArrayList<>();
        try {
            long started = System.nanoTime();
            startAll();
            try (CairnClient client = connectAndAwaitLeader(where)) {
                System.out.printf("cluster crash test: leader after %.1f s%n", (System.nanoTime() - started) / 1e9);
                Thread writer = new Thread(() -> {
                    for (int n = 0; ; n++) {
                        String name = "crash/img-" + n;
                        try {
                            client.put(name, new ByteArrayInputStream(image(seed, n)));
                        } catch (RuntimeException e) {
                            return; // the cluster died under this put: it was never acknowledged
                        }
                        acknowledged.add(name); // put returned: acknowledged
                    }
                }, "crash-test-writer");
                writer.setDaemon(true);
                writer.start();
                long deadline = Math.min(testDeadline - TimeUnit.SECONDS.toNanos(30),
                        System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
                while (acknowledged.size() < 2 && writer.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(acknowledged.size() >= 2, "the cluster acknowledged only " + acknowledged.size()
                        + " puts before the kill; " + where);
                // In the middle of a put: somewhere in chunk uploads or the commit.
                Thread.sleep(random.nextInt(1500));
                for (Process p : processes) {
                    p.destroyForcibly(); // SIGKILL, all three at once
                }
                for (Process p : processes) {
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS), where);
                }
            }
            // Every put that returned by now was committed before the kill. The writer, if its put is
            // still retrying against the dead cluster, fails once the client is closed; a put that
            // returns later still cannot have been committed after the kill, but is not needed here.
            List<String> expected = List.copyOf(acknowledged);
            long killedAt = System.nanoTime();

            startAll();
            try (CairnClient client = connectAndAwaitLeader(where)) {
                for (String name : expected) {
                    int n = Integer.parseInt(name.substring("crash/img-".length()));
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    client.get(name, out);
                    assertArrayEquals(image(seed, n), out.toByteArray(), name + " differs after the restart; " + where);
                }
            }
            System.out.printf("cluster crash test: %d acknowledged images read back after kill -9 of %d nodes"
                    + " (restart and checks %.1f s), seed %d%n", expected.size(), NODES,
                    (System.nanoTime() - killedAt) / 1e9, seed);
        } finally {
            for (Process p : processes) {
                if (p != null) {
                    p.destroyForcibly();
                    p.waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Image n of a seed: 1 byte to 3 MiB of random bytes. */
    private static byte[] image(long seed, int n) {
        Random random = new Random(seed * 31 + n);
        byte[] bytes = new byte[1 + random.nextInt(MAX_IMAGE_BYTES)];
        random.nextBytes(bytes);
        return bytes;
    }

    private void writeConfigs() throws IOException {
        List<NodeAddress> addresses = new ArrayList<>();
        for (int i = 1; i <= NODES; i++) {
            addresses.add(new NodeAddress("node-" + i, "127.0.0.1", TestPorts.free(), TestPorts.free(), TestPorts.free()));
        }
        for (NodeAddress a : addresses) {
            Path nodeDir = dir.resolve(a.id());
            Files.createDirectories(nodeDir);
            NodeConfig config = new NodeConfig(a.id(), nodeDir.resolve("data"), Quorum.defaultFor(NODES), addresses,
                    Limits.defaults());
            Path file = nodeDir.resolve("cairn.yaml");
            ConfigFiles.writeNode(config, file);
            configs.add(config);
            configFiles.add(file);
        }
    }

    /** Starts (or restarts) every node as its own {@code cairn server --config FILE} process. */
    private void startAll() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int i = 0; i < NODES; i++) {
            Path log = configFiles.get(i).resolveSibling("server.log");
            // Its temp dir is the test's: RocksDB copies its native library there at every start,
            // and a killed node never removes the copy (15 MB each).
            ProcessBuilder builder = new ProcessBuilder(java, "-Xmx384m", "-Djava.io.tmpdir=" + dir,
                    "-cp", System.getProperty("java.class.path"),
                    "dev.cairn.server.ServerMain", "--config", configFiles.get(i).toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            processes[i] = builder.start();
        }
    }

    /** Connects once a node answers, then waits until all three agree on a Raft leader. */
    private CairnClient connectAndAwaitLeader(String where) throws InterruptedException {
        String endpoints = configs.get(0).nodes().stream().map(NodeAddress::endpoint).collect(Collectors.joining(","));
        long deadline = testDeadline;
        CairnClient client = null;
        while (client == null) {
            try {
                client = CairnClient.connect(ClientConfig.parse(endpoints));
            } catch (CairnException.ClusterUnreachable e) {
                assertTrue(System.nanoTime() < deadline, "no node answered within the test's time budget; " + where);
                Thread.sleep(200);
            }
        }
        while (true) {
            List<dev.cairn.client.NodeStatus> statuses = dev.cairn.client.CairnAdmin.of(client).nodeStatuses();
            String leader = statuses.isEmpty() ? null : statuses.get(0).leaderId();
            if (statuses.size() == NODES && leader != null
                    && statuses.stream().allMatch(s -> leader.equals(s.leaderId()))) {
                return client;
            }
            if (System.nanoTime() > deadline) {
                client.close();
                throw new AssertionError("no agreed Raft leader within the test's time budget: " + statuses + "; " + where);
            }
            Thread.sleep(200);
        }
    }

}
