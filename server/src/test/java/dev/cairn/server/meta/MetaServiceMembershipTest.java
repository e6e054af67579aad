package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceSnapshotTest.SMALL;
import static dev.cairn.server.meta.MetaServiceSnapshotTest.awaitTrue;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The membership in the replicated catalog: seeded once from the config, kept in snapshots. */
class MetaServiceMembershipTest {

    @TempDir
    Path dir;

    @Test
    void theConfigSeedsTheMembershipOnceOnEveryReplica() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3)) {
            cluster.startAll();
            for (int i = 0; i < 3; i++) {
                MetaService node = cluster.node(i);
                awaitTrue(() -> node.membership().isSeeded(), "node " + i + " applied the seed");
            }
            Membership m = cluster.node(0).membership();
            assertEquals(List.of("n0", "n1", "n2"), m.members().stream().map(Member::id).toList());
            assertTrue(m.members().stream().allMatch(x -> x.state() == MemberState.ACTIVE));
            assertTrue(m.index() > 0);
            // Every node offered its seed; only the first was applied, so the index is the same everywhere.
            for (int i = 1; i < 3; i++) {
                MetaService node = cluster.node(i);
                awaitTrue(() -> node.membership().equals(m), "node " + i + " has the same membership");
            }
        }
    }

    @Test
    void markingLeavingBelowNIsRefusedAndDroppingAnActiveNodeToo() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3)) {
            cluster.startAll();
            MetaService node = cluster.node(0);
            awaitTrue(() -> node.membership().isSeeded(), "seeded");
            ExecutionException belowN = assertThrows(ExecutionException.class, () -> node.markLeaving("n1").get());
            assertTrue(belowN.getCause().getMessage().contains("would leave 2 active nodes"), belowN.getCause().getMessage());
            ExecutionException active = assertThrows(ExecutionException.class, () -> node.dropMember("n1").get());
            assertTrue(active.getCause().getMessage().contains("node n1 is active"), active.getCause().getMessage());
            assertEquals(3, node.membership().active().size());
            assertEquals(List.of("n0", "n1", "n2"), node.raftPeers());
        }
    }

    @Test
    void aReplicaRebuiltFromASnapshotHasTheMembership() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3, SMALL)) {
            cluster.startAll();
            MetaService first = cluster.node(0);
            awaitTrue(() -> first.membership().isSeeded(), "seeded");
            int leader = cluster.leader();
            int rebuilt = (leader + 1) % 3;
            cluster.stop(rebuilt);
            dev.cairn.server.meta.MetaServiceTestFiles.deleteTree(cluster.configs.get(rebuilt).dataDir());
            for (int i = 0; i < 80; i++) {
                get(cluster.node(leader).commitImage(new ImageName("m/" + i), root("m" + i)));
            }
            MetaService leaderNode = cluster.node(leader);
            awaitTrue(() -> leaderNode.logStartIndex() > 20, "the leader purged the log that holds the seed");
            cluster.start(rebuilt);
            MetaService node = cluster.node(rebuilt);
            awaitTrue(() -> node.stateMachine().snapshotsLoaded() > 0, "the rebuilt node installed a snapshot");
            awaitTrue(() -> node.membership().equals(leaderNode.membership()), "the rebuilt node has the membership");
            assertEquals(3, node.membership().members().size());
        }
    }

    @Test
    void aClusterWithoutAMembershipIsSeededByTheFirstMembershipCommand() throws Exception {
        MetaService.Tuning noSeed = new MetaService.Tuning(10_000, org.apache.ratis.util.SizeInBytes.valueOf("8MB"), 1024,
                200_000, false);
        try (MetaCluster cluster = new MetaCluster(dir, 3, noSeed)) {
            cluster.startAll();
            MetaService node = cluster.node(1);
            get(node.commitImage(new ImageName("before/membership"), root("b")));
            assertTrue(!node.membership().isSeeded(), "as on a cluster that ran a build without membership");
            // Refused (N=3 of 3), but only after the node recorded its config's list as the membership.
            ExecutionException refused = assertThrows(ExecutionException.class, () -> node.markLeaving("n2").get());
            assertTrue(refused.getCause().getMessage().contains("would leave 2 active nodes"), refused.getCause().getMessage());
            assertEquals(List.of("n0", "n1", "n2"), node.membership().members().stream().map(Member::id).toList());
            MetaService other = cluster.node(2);
            awaitTrue(() -> other.membership().equals(node.membership()), "every replica applied the seed");
        }
    }
}
