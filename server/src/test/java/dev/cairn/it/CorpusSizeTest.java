package dev.cairn.it;

import dev.cairn.client.CairnClient;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.image.Estimator;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The measured yardstick: the real CRIU corpus, estimated offline and stored in a real cluster. */
class CorpusSizeTest {

    static final List<String> DUMPS = List.of("sim/dump-1", "sim/dump-2", "sim/dump-3", "sim/dump-4", "sim/dump-5",
            "tree/dump-1", "tree/dump-2", "jvm/dump-1", "jvm/dump-2", "jvm/dump-3");

    @TempDir
    static Path dir;

    static Path corpus;

    @BeforeAll
    static void unpack() throws Exception {
        Optional<Path> archive = Corpus.archive();
        Assumptions.assumeTrue(archive.isPresent(),
                "skipped: the shared CRIU corpus (" + Corpus.ARCHIVE + ") is not on this machine");
        corpus = dir.resolve("corpus");
        for (String group : List.of("sim", "tree", "jvm")) {
            Corpus.unpack(archive.get(), group, corpus);
        }
    }

    @Test
    void theTenDumpsInOrderEstimateAtLeastSixTimesSmaller() throws Exception {
        Estimator.Result r;
        try (Estimator estimator = new Estimator()) {
            for (String d : DUMPS) {
                estimator.add(corpus.resolve(d));
            }
            r = estimator.result();
        }
        System.out.printf("estimate of the 10 corpus dumps: logical %d, unique %d, stored %d, ratio %.3f%n",
                r.logicalBytes(), r.uniqueBytes(), r.storedBytes(), r.ratio());
        assertTrue(r.logicalBytes() > 240_000_000L, "the corpus is about 248 MB: " + r.logicalBytes());
        assertTrue(r.ratio() >= 6.0, "ratio " + r.ratio());
    }

    @Test
    void whatAClusterStoresMatchesTheEstimateWithinTenPercent() throws Exception {
        List<String> dumps = DUMPS.subList(0, 5);
        Estimator.Result estimate;
        try (Estimator estimator = new Estimator()) {
            for (String d : dumps) {
                estimator.add(corpus.resolve(d));
            }
            estimate = estimator.result();
        }
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster"));
             CairnClient client = cluster.client()) {
            long sent = 0;
            for (String d : dumps) {
                sent += client.put("corpus/" + d, corpus.resolve(d)).sentBytes();
            }
            long stored = 0;
            List<dev.cairn.client.NodeStatus> nodes = dev.cairn.client.CairnAdmin.of(client).nodeStatuses();
            for (dev.cairn.client.NodeStatus s : nodes) {
                stored += s.storedBytes();
            }
            long perReplica = stored / cluster.config(0).quorum().replicas();
            System.out.printf("sim dumps 1-5: estimate stored %d, cluster stores %d per replica (%d on %d nodes), sent %d%n",
                    estimate.storedBytes(), perReplica, stored, nodes.size(), sent);
            double ratio = (double) perReplica / estimate.storedBytes();
            assertTrue(ratio > 0.9 && ratio < 1.1, "cluster stores " + perReplica + " per replica, estimate says "
                    + estimate.storedBytes());
        }
    }
}
