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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
            CompletableFuture<Long> write = cluster.node(survivor).commitImage(new ImageName("quorum/one-of-three"), root("x"));
            // A leader that just lost its majority may still answer a read from the last majority
            // acknowledgement (Ratis reuses it for the read index); once it steps down, reads fail too.
            awaitNotLeader(cluster.node(survivor));
            CompletableFuture<?> read = cluster.node(survivor).getImage(name);

            CatalogException e = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> failure(write));
            assertEquals(CatalogException.Code.UNAVAILABLE, e.code(), e.getMessage());
            assertTrue(e.getMessage().startsWith("metadata quorum unavailable"), e.getMessage());
            assertTrue(e.getMessage().contains("(1 of 3 nodes answer)"), e.getMessage());
            CatalogException readFailure = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> failure(read));
            assertEquals(CatalogException.Code.UNAVAILABLE, readFailure.code(), readFailure.getMessage());
        }
    }

    private static void awaitNotLeader(MetaService node) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (node.status().role().equals("LEADER")) {
            assertTrue(System.nanoTime() < deadline, "a leader without a majority did not step down within 30s");
            Thread.sleep(50);
        }
    }
}
