package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaServiceRestartTest {

    @TempDir
    Path dir;

    @Test
    void aFullRestartKeepsTheCatalogAndDoesNotApplyEntriesTwice() throws Exception {
        ImageName kept = new ImageName("restart/kept");
        ImageName deleted = new ImageName("restart/deleted");
        long keptIndex;
        long appliedBefore;
        MetaCluster cluster = new MetaCluster(dir, 3);
        try {
            cluster.startAll();
            keptIndex = get(cluster.node(0).commitImage(kept, root("k")));
            get(cluster.node(1).commitImage(deleted, root("d")));
            long deleteIndex = get(cluster.node(2).deleteImage(deleted));
            // Let every node apply the delete and the membership seed (an entry the nodes offer on
            // their own once a second), so that after the restart nothing is left to apply.
            long last = deleteIndex;
            for (int i = 0; i < 3; i++) {
                awaitSeeded(cluster.node(i));
                last = Math.max(last, cluster.node(i).status().commitIndex());
            }
            for (int i = 0; i < 3; i++) {
                awaitApplied(cluster.node(i), last);
            }
            appliedBefore = cluster.node(0).status().appliedIndex();

            cluster.close();
            cluster.startAll(); // same configs: same ports, same data directories
            for (int i = 0; i < 3; i++) {
                assertEquals(Optional.of(new ImageInfo(kept, root("k"), keptIndex)), get(cluster.node(i).getImage(kept)));
                assertEquals(Optional.empty(), get(cluster.node(i).getImage(deleted)), "delete replayed wrongly on node " + i);
                assertTrue(cluster.node(i).status().appliedIndex() >= appliedBefore);
                CatalogStateMachine sm = cluster.node(i).stateMachine();
                assertEquals(0, sm.entriesApplied(), "node " + i + " applied a persisted entry again");
                // Ratis snapshots the catalog when a node stops, so at most the three catalog
                // entries are replayed (and skipped), none when the stop snapshot covered them.
                assertTrue(sm.entriesSkipped() <= 3, "node " + i + " replayed more than the three catalog entries");
                assertNotNull(sm.getLatestSnapshot(), "node " + i + " took no snapshot when it stopped");
            }
            ImageName fresh = new ImageName("restart/fresh");
            long freshIndex = get(cluster.node(1).commitImage(fresh, root("f")));
            assertTrue(freshIndex > appliedBefore);
            assertEquals(List.of("restart/fresh", "restart/kept"),
                    get(cluster.node(2).listImages("restart/", 10)).stream().map(i -> i.name().value()).toList());
        } finally {
            cluster.close();
        }
    }

    private static void awaitSeeded(MetaService node) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!node.membership().isSeeded()) {
            assertTrue(System.nanoTime() < deadline, "the membership was not seeded within 30s");
            Thread.sleep(20);
        }
    }

    private static void awaitApplied(MetaService node, long index) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (node.status().appliedIndex() < index) {
            assertTrue(System.nanoTime() < deadline, "node did not apply index " + index + " within 30s");
            Thread.sleep(20);
        }
    }
}
