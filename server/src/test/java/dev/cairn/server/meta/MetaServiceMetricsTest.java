package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceSnapshotTest.awaitTrue;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import dev.cairn.engine.ImageName;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaServiceMetricsTest {

    @TempDir
    Path dir;

    @Test
    void raftGaugesFollowCommitsAndFollowerLag() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3)) {
            cluster.startAll();
            int leader = cluster.leader();
            int follower = (leader + 1) % 3;
            int stopped = (leader + 2) % 3;
            MetricRegistry leaderMetrics = new MetricRegistry();
            MetricRegistry followerMetrics = new MetricRegistry();
            cluster.node(leader).registerMetrics(leaderMetrics);
            cluster.node(follower).registerMetrics(followerMetrics);

            assertEquals(2L, gauge(leaderMetrics, "cairn_raft_role"));
            assertEquals(0L, gauge(followerMetrics, "cairn_raft_role"));
            long term = gauge(leaderMetrics, "cairn_raft_term");
            assertTrue(term >= 1);
            assertEquals(term, gauge(followerMetrics, "cairn_raft_term"));
            long commitBefore = gauge(leaderMetrics, "cairn_raft_commit_index");

            long index = get(cluster.node(leader).commitImage(new ImageName("metrics/a"), root("a")));
            assertTrue(gauge(leaderMetrics, "cairn_raft_commit_index") >= index);
            assertTrue(gauge(leaderMetrics, "cairn_raft_commit_index") > commitBefore);
            assertTrue(gauge(leaderMetrics, "cairn_raft_applied_index") >= index);
            awaitTrue(() -> gauge(followerMetrics, "cairn_raft_applied_index") >= index, "follower applied gauge did not move");
            awaitTrue(() -> gauge(leaderMetrics, "cairn_raft_follower_lag") == 0, "followers did not catch up");

            // A stopped follower falls behind by every entry committed without it.
            cluster.stop(stopped);
            long last = 0;
            for (int i = 0; i < 5; i++) {
                last = get(cluster.node(leader).commitImage(new ImageName("metrics/b" + i), root("b" + i)));
            }
            assertTrue(gauge(leaderMetrics, "cairn_raft_follower_lag") >= 5,
                    "lag " + gauge(leaderMetrics, "cairn_raft_follower_lag") + " after 5 commits without a follower");
            assertEquals(0L, gauge(followerMetrics, "cairn_raft_follower_lag"), "only a leader reports lag");
            assertTrue(gauge(leaderMetrics, "cairn_raft_commit_index") >= last);

            cluster.stop(follower);
            assertTrue(followerMetrics.getGauges().isEmpty(), "close removes the gauges");
        }
    }

    private static long gauge(MetricRegistry registry, String name) {
        Gauge<?> g = registry.getGauges().get(name);
        assertTrue(g != null, "no gauge " + name);
        return (Long) g.getValue();
    }
}
