package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceTest.failure;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaServiceQuorumTest {

    @TempDir
    Path dir;

    @Test
    void commitsWorkWithOneOfThreeNodesStoppedAndFailWithUnavailableWithTwo() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3).startAll()) {
            // Stop the leader: the two others must elect a new one and keep committing.
            int leader = cluster.leader();
            cluster.stop(leader);
            int survivor = (leader + 1) % 3;
            ImageName name = new ImageName("quorum/two-of-three");
            long index = get(cluster.node(survivor).commitImage(name, root("q")));
            assertEquals(index, get(cluster.node((leader + 2) % 3).getImage(name)).orElseThrow().commitIndex());

            cluster.stop((leader + 2) % 3);
            CatalogException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> failure(cluster.node(survivor).commitImage(new ImageName("quorum/one-of-three"), root("x"))));
            assertEquals(CatalogException.Code.UNAVAILABLE, e.code(), e.getMessage());
            assertTrue(e.getMessage().startsWith("metadata quorum unavailable"), e.getMessage());
            assertTrue(e.getMessage().contains("(1 of 3 nodes answer)"), e.getMessage());

            CatalogException read = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> failure(cluster.node(survivor).getImage(name)));
            assertEquals(CatalogException.Code.UNAVAILABLE, read.code(), read.getMessage());
        }
    }
}
