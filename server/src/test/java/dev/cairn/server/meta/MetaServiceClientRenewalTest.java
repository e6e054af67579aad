package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose Raft clients Ratis has closed (an ordered client's window to a server closes for
 * good once a request's retries run out) builds new ones: the failed write is reported, and the
 * node's next writes and reads succeed. Before, every later request of that node failed at once.
 */
class MetaServiceClientRenewalTest {

    @TempDir
    Path dir;

    @Test
    void clientsClosedUnderTheNodeAreReplacedAfterOneFailedRequest() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3).startAll()) {
            int leader = cluster.leader();
            MetaService node = cluster.node(leader);
            get(node.commitImage(new ImageName("renewal/before"), root("a")));

            node.closeClientsForTest();
            // Ratis's close takes effect on its own threads: a write sent at once may still go
            // through the old client. The first write that meets the closed client fails.
            CatalogException e = null;
            for (int attempt = 0; attempt < 20 && e == null; attempt++) {
                CompletableFuture<Long> write = node.commitImage(new ImageName("renewal/lost-" + attempt), root("b"));
                try {
                    write.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException failed) {
                    e = (CatalogException) failed.getCause();
                }
            }
            assertNotNull(e, "no write met the closed client");
            assertEquals(CatalogException.Code.UNAVAILABLE, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("closed"), e.getMessage());

            long index = get(node.commitImage(new ImageName("renewal/after"), root("c")));
            // A read retries within its own deadline: its first attempt meets the closed client,
            // the retry the new one.
            assertEquals(index, get(node.getImage(new ImageName("renewal/after"))).orElseThrow().commitIndex());
            assertTrue(get(node.getImage(new ImageName("renewal/before"))).isPresent());
        }
    }
}
