package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.engine.protocol.ReplicationMessages;
import dev.cairn.engine.protocol.ReplicationMessages.RepairMode;
import dev.cairn.engine.protocol.ReplicationMessages.RepairReport;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
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
            RepairReport first = cluster.server(0).replicator().repairNow();
            RepairReport second = cluster.server(1).replicator().repairNow();
            assertTrue(first.belowReplicas() + second.belowReplicas() > 0, first + " " + second);
            assertEquals(0, first.belowWriteQuorum() + second.belowWriteQuorum(), "the put had its write quorum");
            assertEquals(first.belowReplicas() + second.belowReplicas(), first.copiesRepaired() + second.copiesRepaired());

            // Everything is on three nodes now, and a new census finds nothing below N.
            CairnClient.NodeReports<RepairReport> after = client.repair(RepairMode.RUN, CairnClient.NodeListener.NONE);
            assertTrue(after.failures().isEmpty(), after.failures().toString());
            assertEquals(0, sum(after.reports().values(), true));
            assertEquals(cluster.server(0).store().chunkCount(), cluster.server(2).store().chunkCount());
            assertArrayEquals(data, TestImages.read(client, "while-down"));

            assertEquals(0, CliTest.cairn("admin", "health", "--cluster", cluster.endpoints()).code());
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

            CairnClient.NodeReports<ReplicationMessages.ScrubReport> scrub = client.scrub(CairnClient.NodeListener.NONE);
            ReplicationMessages.ScrubReport damaged = scrub.reports().get("node-2");
            assertEquals(1, damaged.corrupt(), damaged.toString());
            assertEquals(1, damaged.repaired(), damaged.toString());
            assertEquals(0, scrub.reports().get("node-1").corrupt());

            ReplicationMessages.ScrubReport again = client.scrub(CairnClient.NodeListener.NONE).reports().get("node-2");
            assertEquals(0, again.corrupt(), again.toString());
            assertArrayEquals(data, TestImages.read(client, "to-corrupt"));
        }
    }

    private static long sum(java.util.Collection<RepairReport> reports, boolean belowN) {
        return reports.stream().mapToLong(r -> belowN ? r.belowReplicas() : r.belowWriteQuorum()).sum();
    }
}
