package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnAdmin;
import dev.cairn.client.RepairMode;
import dev.cairn.client.RepairReport;
import dev.cairn.client.ScrubReport;
import dev.cairn.protocol.ReplicationMessages;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Anti-entropy and scrub on a real 3-node cluster. */
class RepairTest {

    @TempDir
    Path dir;

    @Test
    void aNodeThatMissedWritesIsRestoredToFullReplication() throws Exception {
        byte[] data = TestImages.random(11, 3 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            cluster.stopNode(2);
            client.put("while-down", new ByteArrayInputStream(data));
            cluster.startNode(2);
            cluster.awaitLeader();

            // A pass counts what node-3 missed (before copying) and sends it the copies.
            ReplicationMessages.RepairReport first = cluster.server(0).replicator().repairNow();
            ReplicationMessages.RepairReport second = cluster.server(1).replicator().repairNow();
            assertTrue(first.belowReplicas() + second.belowReplicas() > 0, first + " " + second);
            assertEquals(0, first.belowWriteQuorum() + second.belowWriteQuorum(), "the put had its write quorum");
            assertEquals(first.belowReplicas() + second.belowReplicas(), first.copiesRepaired() + second.copiesRepaired());

            // Everything is on three nodes now, and a new census finds nothing below N.
            CairnAdmin.NodeReports<RepairReport> after = CairnAdmin.of(client).repair(RepairMode.RUN, CairnAdmin.NodeListener.NONE);
            assertTrue(after.failures().isEmpty(), after.failures().toString());
            assertEquals(0, sum(after.reports().values(), true));
            assertEquals(cluster.server(0).store().chunkCount(), cluster.server(2).store().chunkCount());
            assertArrayEquals(data, TestImages.read(client, "while-down"));

            assertEquals(0, CliTest.cairn("admin", "health", "--cluster", cluster.endpoints()).code());
        }
    }

    @Test
    void adminRepairScrubAndHealthNameANodeThatIsDownAndRepairRestoresItsCopiesOnceItIsBack() throws Exception {
        byte[] data = TestImages.random(13, 3 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            // No pass has run yet (the first background one starts 30 s after a node): health says so.
            CliTest.Run fresh = CliTest.cairn("admin", "health", "--json", "--cluster", cluster.endpoints());
            assertEquals(0, fresh.code(), fresh.out() + fresh.err());
            assertEquals("chunks below N: not counted yet (no replication census has run; cairn admin repair runs one)",
                    fresh.lines().get(5));
            assertTrue(fresh.lastLine().endsWith(",\"underReplicatedChunks\":null,\"belowWriteQuorumChunks\":null}"),
                    fresh.lastLine());

            cluster.stopNode(2);
            cluster.awaitRunningLeader();
            client.put("while-down", new ByteArrayInputStream(data));

            CliTest.Run repair = CliTest.cairn("admin", "repair", "--json", "--cluster", cluster.endpoints());
            assertEquals(1, repair.code(), repair.out() + repair.err());
            List<String> out = repair.lines();
            assertEquals(5, out.size(), repair.out());
            long chunks = 0;
            for (int i = 0; i < 2; i++) {
                chunks += Long.parseLong(CliTest.assertMatches("node-" + (i + 1) + ": (\\d+) chunks counted, 0 copies sent "
                        + "\\(0 B\\) in \\d+ ms, 1 peers unreachable", out.get(i)).group(1));
            }
            CliTest.assertMatches("node-3: failed: .+", out.get(2));
            String left = CliTest.assertMatches("summary: " + chunks + " chunks, 0 copies restored \\(0 B\\), ([1-9]\\d*) chunks "
                    + "still below N \\(some nodes were unreachable: repair again when they are back\\)", out.get(3)).group(1);
            assertEquals("{\"chunks\":" + chunks + ",\"copiesRepaired\":0,\"bytesRepaired\":0,\"underReplicatedChunks\":" + left
                    + ",\"failedNodes\":[\"node-3\"]}", out.get(4));
            assertEquals(List.of(), repair.errLines("repair: "), "progress only on a terminal: " + repair.err());

            CliTest.Run scrub = CliTest.cairn("admin", "scrub", "--json", "--cluster", cluster.endpoints());
            assertEquals(1, scrub.code(), scrub.out() + scrub.err());
            out = scrub.lines();
            assertEquals(5, out.size(), scrub.out());
            long checked = 0;
            for (int i = 0; i < 2; i++) {
                checked += Long.parseLong(CliTest.assertMatches("node-" + (i + 1)
                        + ": (\\d+) chunks checked, 0 corrupt, 0 repaired, 0 unrepairable, \\d+ ms", out.get(i)).group(1));
            }
            CliTest.assertMatches("node-3: failed: .+", out.get(2));
            assertEquals("summary: " + checked + " checked, 0 corrupt, 0 repaired, 0 unrepairable", out.get(3));
            assertEquals("{\"checked\":" + checked + ",\"corrupt\":0,\"repaired\":0,\"unrepairable\":0,\"failedNodes\":[\"node-3\"]}",
                    out.get(4));

            CliTest.Run health = CliTest.cairn("admin", "health", "--json", "--cluster", cluster.endpoints());
            assertEquals(1, health.code(), health.out() + health.err());
            out = health.lines();
            assertEquals(8, out.size(), health.out());
            CliTest.assertHealthRow(out.get(1), "node-1");
            CliTest.assertHealthRow(out.get(2), "node-2");
            assertEquals("node-3     no        ", out.get(3));
            assertEquals("", out.get(4));
            assertEquals("chunks below N=3: " + left + ", below N_W=2: 0 (last replication census of the nodes that answered; "
                    + "cairn admin repair runs one now)", out.get(5));
            String leader = CliTest.assertMatches("status: degraded \\(leader (node-[12]), 2 of 3 nodes live, N=3 N_W=2 N_R=2\\)",
                    out.get(6)).group(1);
            CliTest.assertMatches("\\{\"status\":\"degraded\",\"leader\":\"" + leader + "\",\"liveNodes\":2,.*,\\{\"id\":\"node-3\","
                    + "\"endpoint\":\"" + Pattern.quote(cluster.config(2).self().endpoint()) + "\",\"reachable\":false\\}\\],"
                    + "\"underReplicatedChunks\":" + left + ",\"belowWriteQuorumChunks\":0\\}", out.get(7));

            cluster.startNode(2);
            cluster.awaitLeader();
            CliTest.Run back = CliTest.cairn("admin", "repair", "--json", "--cluster", cluster.endpoints());
            assertEquals(0, back.code(), back.out() + back.err());
            out = back.lines();
            assertEquals(5, out.size(), back.out());
            long copies = 0;
            long[] sentBy = new long[3];
            for (int i = 0; i < 3; i++) {
                sentBy[i] = Long.parseLong(CliTest.assertMatches("node-" + (i + 1) + ": \\d+ chunks counted, (\\d+) copies sent \\("
                        + CliTest.BYTES + "\\) in \\d+ ms", out.get(i)).group(1));
                copies += sentBy[i];
            }
            assertTrue(copies > 0, back.out());
            CliTest.assertMatches("summary: \\d+ chunks, " + copies + " copies restored \\(" + CliTest.BYTES
                    + "\\), 0 chunks still below N", out.get(3));
            CliTest.assertMatches("\\{\"chunks\":\\d+,\"copiesRepaired\":" + copies + ",\"bytesRepaired\":\\d+,"
                    + "\"underReplicatedChunks\":0,\"failedNodes\":\\[\\]\\}", out.get(4));
            assertArrayEquals(data, TestImages.read(client, "while-down"));

            // admin repair ended with a census pass that copied nothing: the copies each node sent are
            // in its counter, and no gauge of the last pass's copies says 0 instead.
            for (int i = 0; i < 3; i++) {
                String metrics = HttpEndpointsTest.scrape(cluster, i);
                assertEquals(sentBy[i], HttpEndpointsTest.value(metrics, "cairn_repair_chunks_copied_total"), metrics);
                assertEquals(0, HttpEndpointsTest.value(metrics, "cairn_repair_chunks_below_replicas"), metrics);
                assertFalse(metrics.contains("cairn_repair_copies_sent"), metrics);
            }
        }
    }

    @Test
    void scrubReplacesACorruptCopyWithAVerifiedOne() throws Exception {
        byte[] data = TestImages.random(12, 2 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("to-corrupt", new ByteArrayInputStream(data));
            Path segment;
            try (Stream<Path> files = Files.walk(cluster.config(1).dataDir().resolve("chunks"))) {
                segment = files.filter(p -> p.toString().endsWith(".seg")).filter(p -> p.toFile().length() > 100_000)
                        .findFirst().orElseThrow();
            }
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long at = ch.size() / 2;
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, at);
                one.put(0, (byte) (one.get(0) ^ 0x5a));
                ch.write(one.flip(), at);
            }

            CairnAdmin.NodeReports<ScrubReport> scrub = CairnAdmin.of(client).scrub(CairnAdmin.NodeListener.NONE);
            ScrubReport damaged = scrub.reports().get("node-2");
            assertEquals(1, damaged.corrupt(), damaged.toString());
            assertEquals(1, damaged.repaired(), damaged.toString());
            assertEquals(0, scrub.reports().get("node-1").corrupt());

            ScrubReport again = CairnAdmin.of(client).scrub(CairnAdmin.NodeListener.NONE).reports().get("node-2");
            assertEquals(0, again.corrupt(), again.toString());
            assertArrayEquals(data, TestImages.read(client, "to-corrupt"));
        }
    }

    private static long sum(java.util.Collection<RepairReport> reports, boolean belowN) {
        return reports.stream().mapToLong(r -> belowN ? r.belowReplicas() : r.belowWriteQuorum()).sum();
    }
}
