package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.Member;
import dev.cairn.client.NodeChange;
import dev.cairn.config.NodeAddress;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.placement.Placement;
import dev.cairn.server.CairnServer;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adding, removing and replacing nodes of a real cluster with images stored (real Ratis, RocksDB, Netty). */
class MembershipTest {

    private static final int N = 3;

    @TempDir
    Path dir;

    /** Two images: a CRIU-like page file (cut at every 4 KiB page: many chunks) and a stream. */
    private void putImages(CairnClient client, Path source) throws Exception {
        Files.createDirectories(source);
        Files.write(source.resolve("pages-1.img"), TestImages.random(21, 3 * 1024 * 1024));
        Files.write(source.resolve("core-1.img"), TestImages.random(22, 100_000));
        client.put("job/dump-1", source);
        client.put("job/stream", new ByteArrayInputStream(TestImages.random(23, 2 * 1024 * 1024)));
    }

    private void assertImagesReadBack(CairnClient client, Path source, String destination) throws Exception {
        Path restored = dir.resolve(destination);
        client.get("job/dump-1", restored);
        for (String file : List.of("pages-1.img", "core-1.img")) {
            assertArrayEquals(Files.readAllBytes(source.resolve(file)), Files.readAllBytes(restored.resolve(file)), file);
        }
        assertArrayEquals(TestImages.random(23, 2 * 1024 * 1024), TestImages.read(client, "job/stream"));
    }

    /** Every chunk id held by any running node. */
    private static Set<ChunkId> allChunks(TestCluster cluster) {
        Set<ChunkId> ids = new TreeSet<>(java.util.Comparator.comparing(ChunkId::toHex));
        for (int i = 0; i < cluster.size(); i++) {
            CairnServer s = cluster.server(i);
            if (s == null) {
                continue;
            }
            ChunkId after = null;
            while (true) {
                List<ChunkId> page = s.store().idsAfter(after, 1024);
                if (page.isEmpty()) {
                    break;
                }
                ids.addAll(page);
                after = page.get(page.size() - 1);
            }
        }
        return ids;
    }

    private static CairnServer byId(TestCluster cluster, String id) {
        for (int i = 0; i < cluster.size(); i++) {
            if (cluster.server(i) != null && cluster.config(i).nodeId().equals(id)) {
                return cluster.server(i);
            }
        }
        throw new AssertionError("no running node " + id);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(50); // polling a condition with a deadline
        }
    }

    private static Member member(TestCluster cluster, int index) {
        NodeAddress a = cluster.config(index).self();
        return new Member(a.id(), a.host(), a.port(), a.raftPort(), a.httpPort(), a.zone(),
                Member.State.ACTIVE);
    }

    /** Every chunk is on each of its placement nodes (by the given ids) and on at least N running nodes. */
    private static void assertEveryChunkOnItsPlacement(TestCluster cluster, Set<ChunkId> chunks, List<String> members) {
        Placement placement = new Placement(members);
        for (ChunkId id : chunks) {
            for (String node : placement.nodesFor(id, N)) {
                assertTrue(byId(cluster, node).store().contains(id), "chunk " + id.shortHex() + " is missing on " + node);
            }
        }
    }

    /** Every chunk is on its placement nodes and on no other running node. */
    private static void assertEveryChunkOnlyOnItsPlacement(TestCluster cluster, Set<ChunkId> chunks, List<String> members) {
        Placement placement = new Placement(members);
        for (ChunkId id : chunks) {
            Set<String> holders = new HashSet<>();
            for (int i = 0; i < cluster.size(); i++) {
                if (cluster.server(i) != null && cluster.server(i).store().contains(id)) {
                    holders.add(cluster.config(i).nodeId());
                }
            }
            assertEquals(new HashSet<>(placement.nodesFor(id, N)), holders, "holders of chunk " + id.shortHex());
        }
    }

    @Test
    void addingAFourthNodeMovesAQuarterOfTheCopiesThenRemovingOneKeepsNCopies() throws Exception {
        Path source = dir.resolve("source");
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster")); CairnClient client = cluster.client()) {
            putImages(client, source);
            Set<ChunkId> chunks = allChunks(cluster);
            assertTrue(chunks.size() > 700, "enough chunks for a fraction: " + chunks.size());

            int added = cluster.startJoiningNode("node-4");
            List<String> progress = new CopyOnWriteArrayList<>();
            NodeChange change = CairnAdmin.of(client).addNode(member(cluster, added), progress::add);

            await("every node sees a Raft group of 4 peers", () -> {
                for (int i = 0; i < cluster.size(); i++) {
                    if (cluster.server(i).meta().raftPeers().size() != 4) {
                        return false;
                    }
                }
                return true;
            });
            assertEquals(List.of("node-1", "node-2", "node-3", "node-4"), cluster.server(added).meta().raftPeers());
            assertEquals(4, cluster.server(0).meta().membership().active().size());
            assertEquals(0, change.chunksBelowReplicas(), change.toString());
            assertTrue(change.failedNodes().isEmpty(), change.toString());
            assertTrue(progress.stream().anyMatch(l -> l.startsWith("census:")), progress.toString());

            // With N=3 of 4 nodes the new node takes a quarter of all copies; nothing else moves.
            List<String> four = List.of("node-1", "node-2", "node-3", "node-4");
            Placement before = new Placement(List.of("node-1", "node-2", "node-3"));
            Placement after = new Placement(four);
            long moved = 0;
            long toNew = 0;
            for (ChunkId id : chunks) {
                List<String> was = before.nodesFor(id, N);
                List<String> now = after.nodesFor(id, N);
                moved += now.stream().filter(n -> !was.contains(n)).count();
                toNew += now.contains("node-4") ? 1 : 0;
            }
            double fraction = moved / (double) (N * chunks.size());
            assertTrue(fraction > 0.2 && fraction < 0.3, "moved fraction of copies " + fraction);
            assertEquals(toNew, moved, "every moved copy went to the new node");
            assertEquals(toNew, cluster.server(added).store().chunkCount(), "node-4 holds exactly its new placement share");
            assertEveryChunkOnItsPlacement(cluster, chunks, four);
            // Moved, not copied: the old nodes dropped the copies they no longer place.
            assertEquals(moved, change.copiesDropped(), change.toString());
            assertEveryChunkOnlyOnItsPlacement(cluster, chunks, four);
            try (CairnClient fresh = cluster.client()) {
                assertEquals(4, CairnAdmin.of(fresh).clusterInfo().activeNodes().size());
                assertImagesReadBack(fresh, source, "restored-after-add");
            }

            // A node restarted with its original config (three nodes) takes the group from its log: four peers.
            int restarted = cluster.leaderIndex() == 2 ? 0 : 2;
            cluster.stopNode(restarted);
            cluster.startNode(restarted);
            await("the restarted node knows the four peers and a leader", () ->
                    cluster.server(restarted).meta().raftPeers().size() == 4
                            && cluster.server(restarted).meta().status().leaderId() != null);
            assertEquals(4, cluster.server(restarted).meta().membership().active().size());

            // Remove node-2: every chunk must keep N copies among node-1, node-3, node-4.
            NodeChange removed = CairnAdmin.of(client).removeNode("node-2", progress::add);
            assertEquals(0, removed.chunksBelowReplicas(), removed.toString());
            await("the Raft group has dropped node-2", () -> !cluster.server(0).meta().raftPeers().contains("node-2"));
            assertEquals(List.of("node-1", "node-3", "node-4"), cluster.server(0).meta().raftPeers());
            assertFalse(cluster.server(0).meta().membership().member("node-2").isPresent());
            assertEquals(0, cluster.server(1).store().chunkCount(), "node-2's copies all moved to the remaining nodes");
            cluster.stopNode(1);
            List<String> rest = List.of("node-1", "node-3", "node-4");
            assertEveryChunkOnItsPlacement(cluster, chunks, rest);
            for (ChunkId id : chunks) {
                long copies = rest.stream().filter(n -> byId(cluster, n).store().contains(id)).count();
                assertEquals(N, copies, "copies of chunk " + id.shortHex() + " without node-2");
            }
            try (CairnClient fresh = CairnClient.connect(dev.cairn.config.ClientConfig.parse(
                    cluster.config(0).self().endpoint()))) {
                assertEquals(3, CairnAdmin.of(fresh).clusterInfo().nodes().size());
                assertImagesReadBack(fresh, source, "restored-after-remove");
                fresh.put("job/after-remove", new ByteArrayInputStream(TestImages.random(24, 300_000)));
                assertArrayEquals(TestImages.random(24, 300_000), TestImages.read(fresh, "job/after-remove"));
            }
        }
    }

    @Test
    void replaceThroughTheCliSwapsTheLeaderForANewNode() throws Exception {
        Path source = dir.resolve("source");
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster")); CairnClient client = cluster.client()) {
            putImages(client, source);
            Set<ChunkId> chunks = allChunks(cluster);
            int leader = cluster.leaderIndex();
            String old = cluster.config(leader).nodeId();
            int added = cluster.startJoiningNode("node-9");
            NodeAddress a = cluster.config(added).self();
            CliTest.Run run = CliTest.cairn("admin", "nodes", "replace", old, "--id", "node-9", "--host", a.host(),
                    "--port", String.valueOf(a.port()), "--raft-port", String.valueOf(a.raftPort()),
                    "--http-port", String.valueOf(a.httpPort()), "--cluster", cluster.endpoints(), "--json");
            assertEquals(0, run.code(), run.err());
            List<String> out = run.lines();
            assertEquals(2, out.size(), run.out());
            java.util.regex.Matcher summary = CliTest.assertMatches("summary: " + old + " replaced by node-9 \\(membership "
                    + "index (\\d+)\\); (\\d+) copies made \\(" + CliTest.BYTES + "\\), (\\d+) old copies dropped; census: "
                    + "(\\d+) chunks, 0 below N", out.get(0));
            CliTest.assertMatches("\\{\"action\":\"replace\",\"node\":\"node-9\",\"membershipIndex\":" + summary.group(1)
                    + ",\"copiesMade\":" + summary.group(2) + ",\"bytesCopied\":\\d+,\"copiesDropped\":" + summary.group(3)
                    + ",\"chunks\":" + summary.group(4) + ",\"underReplicatedChunks\":0,\"failedNodes\":\\[\\]\\}", out.get(1));
            assertTrue(run.err().isBlank(), "no progress lines when stderr is not a terminal: " + run.err());

            int other = leader == 0 ? 1 : 0;
            await("the Raft group dropped the old leader", () -> !cluster.server(other).meta().raftPeers().contains(old));
            cluster.stopNode(leader);
            cluster.awaitRunningLeader();
            List<String> members = new ArrayList<>(List.of("node-1", "node-2", "node-3", "node-9"));
            members.remove(old);
            assertEquals(members, cluster.server(other).meta().raftPeers());
            assertEveryChunkOnItsPlacement(cluster, chunks, members);
            try (CairnClient fresh = CairnClient.connect(dev.cairn.config.ClientConfig.parse(
                    cluster.config(other).self().endpoint()))) {
                assertImagesReadBack(fresh, source, "restored-after-replace");
            }

            CliTest.Run list = CliTest.cairn("admin", "nodes", "--cluster", cluster.config(other).self().endpoint(), "--json");
            assertEquals(0, list.code(), list.err());
            assertTrue(list.out().contains("node-9"), list.out());
            assertFalse(list.lastLine().contains("\"" + old + "\""), list.out());
            assertTrue(list.lastLine().contains("\"state\":\"active\""), list.out());
        }
    }

    @Test
    void removalsAndAddsThatWouldBreakTheClusterAreRefusedWithAReason() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster")); CairnClient client = cluster.client()) {
            client.put("kept", new ByteArrayInputStream(TestImages.random(25, 200_000)));
            await("the membership is recorded", () -> cluster.server(0).meta().membership().isSeeded());

            CairnException belowN = assertThrows(CairnException.class, () -> CairnAdmin.of(client).removeNode("node-3", l -> {}));
            assertTrue(belowN.getMessage().contains("would leave 2 active nodes"), belowN.getMessage());
            assertEquals(3, cluster.server(0).meta().membership().active().size(), "nothing changed");

            CairnException unknown = assertThrows(CairnException.class, () -> CairnAdmin.of(client).removeNode("node-7", l -> {}));
            assertTrue(unknown.getMessage().contains("node-7 is not a member"), unknown.getMessage());

            Member clash = member(cluster, 1);
            CairnException exists = assertThrows(CairnException.class, () -> CairnAdmin.of(client).addNode(new Member(
                    "node-2", "127.0.0.1", 1, 2, 3, "", Member.State.ACTIVE), l -> {}));
            assertTrue(exists.getMessage().contains("already a member"), exists.getMessage());

            // A node that was never started cannot be added: the Raft group could not bring it up to date.
            CairnException notRunning = assertThrows(CairnException.class, () -> CairnAdmin.of(client).addNode(new Member(
                    "node-5", "127.0.0.1", clash.port() + 20_000 > 65_000 ? 40_001 : clash.port() + 20_000, 40_002,
                    40_003, "", Member.State.ACTIVE), l -> {}));
            assertTrue(notRunning.getMessage().contains("does not answer on its raft port"), notRunning.getMessage());
            assertEquals(3, cluster.server(0).meta().raftPeers().size());

            CliTest.Run cli = CliTest.cairn("admin", "nodes", "remove", "node-1", "--cluster", cluster.endpoints());
            assertEquals(1, cli.code());
            // Exactly one error line that says why and what to do.
            List<String> lines = cli.err().strip().lines().toList();
            assertEquals(1, lines.size(), cli.err());
            assertTrue(lines.get(0).startsWith("cairn: ") && lines.get(0).contains("N=3")
                    && lines.get(0).contains("add a node first"), cli.err());
            assertArrayEquals(TestImages.random(25, 200_000), TestImages.read(client, "kept"));
        }
    }

    @Test
    void aDeadNodeIsReplacedFromTheSurvivingCopies() throws Exception {
        Path source = dir.resolve("source");
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster")); CairnClient client = cluster.client()) {
            putImages(client, source);
            Set<ChunkId> chunks = allChunks(cluster);
            int dead = cluster.leaderIndex() == 1 ? 2 : 1; // a follower, so the test does not wait for an election
            String deadId = cluster.config(dead).nodeId();
            cluster.stopNode(dead);
            int added = cluster.startJoiningNode("node-5");

            List<String> progress = new CopyOnWriteArrayList<>();
            NodeChange change = CairnAdmin.of(client).replaceNode(deadId, member(cluster, added), progress::add);
            assertEquals(0, change.chunksBelowReplicas(), change + " " + progress);

            List<String> rest = new ArrayList<>(List.of("node-1", "node-2", "node-3", "node-5"));
            rest.remove(deadId);
            await("the Raft group is the survivors and node-5", () -> cluster.server(0 == dead ? 2 : 0).meta().raftPeers().equals(rest));
            for (ChunkId id : chunks) {
                long copies = rest.stream().filter(n -> byId(cluster, n).store().contains(id)).count();
                assertEquals(N, copies, "copies of chunk " + id.shortHex() + " without " + deadId);
            }
            try (CairnClient fresh = CairnClient.connect(dev.cairn.config.ClientConfig.parse(
                    cluster.config(added).self().endpoint()))) {
                assertEquals(rest, CairnAdmin.of(fresh).clusterInfo().nodes().stream().map(p -> p.id()).sorted().toList());
                assertImagesReadBack(fresh, source, "restored-after-dead-replaced");
            }
        }
    }

    @Test
    void replicasLandInDistinctZonesFromTheConfigThroughTheCatalogToTheClient() throws Exception {
        Path source = dir.resolve("source");
        try (TestCluster cluster = TestCluster.startInZones(dir.resolve("cluster"), "rack-a", "rack-a", "rack-b", "rack-c")) {
            await("the membership with zones is recorded", () -> cluster.server(0).meta().membership().isSeeded());
            try (CairnClient client = cluster.client()) {
                assertEquals(List.of("rack-a", "rack-a", "rack-b", "rack-c"),
                        CairnAdmin.of(client).clusterInfo().nodes().stream().map(p -> p.zone()).toList());
                putImages(client, source);
                Set<ChunkId> chunks = allChunks(cluster);
                for (ChunkId id : chunks) {
                    boolean both = cluster.server(0).store().contains(id) && cluster.server(1).store().contains(id);
                    assertFalse(both, "chunk " + id.shortHex() + " has two copies in rack-a");
                    long copies = 0;
                    for (int i = 0; i < 4; i++) {
                        copies += cluster.server(i).store().contains(id) ? 1 : 0;
                    }
                    assertEquals(N, copies, "copies of chunk " + id.shortHex());
                }
                assertImagesReadBack(client, source, "restored-zoned");
            }
            CliTest.Run list = CliTest.cairn("admin", "nodes", "--cluster", cluster.endpoints(), "--json");
            assertEquals(0, list.code(), list.err());
            assertTrue(list.lastLine().contains("\"zone\":\"rack-b\""), list.out());
        }
    }
}
