package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The catalog API on one healthy three-node group, shared by the tests (each uses its own names). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServiceTest {

    @TempDir
    static Path dir;

    private MetaCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = new MetaCluster(dir, 3).startAll();
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void threeNodesAgreeOnOneLeader() {
        int leader = cluster.leader();
        assertNotEquals(-1, leader, "no node is leader");
        String leaderId = cluster.configs.get(leader).nodeId();
        for (int i = 0; i < cluster.size(); i++) {
            MetaStatus status = cluster.node(i).status();
            assertEquals(leaderId, status.leaderId(), "node " + i + " follows another leader");
            assertEquals(i == leader ? "LEADER" : "FOLLOWER", status.role());
            assertTrue(status.term() >= 1);
        }
    }

    @Test
    void aCommittedImageIsReadFromEveryNodeWithItsCommitIndex() throws Exception {
        ImageName name = new ImageName("job-1/rank-0/ckpt-1");
        long index = get(cluster.node(1).commitImage(name, root("a")));
        assertTrue(index > 0);
        for (int i = 0; i < cluster.size(); i++) {
            Optional<ImageInfo> read = get(cluster.node(i).getImage(name));
            assertEquals(Optional.of(new ImageInfo(name, root("a"), index)), read, "read on node " + i);
        }
    }

    @Test
    void listReturnsTheImagesWithThePrefixSortedAndBoundedByTheLimit() throws Exception {
        for (String n : List.of("list/b", "list/a", "list/c/1", "listing", "other/x")) {
            get(cluster.node(0).commitImage(new ImageName(n), root(n)));
        }
        assertEquals(List.of("list/a", "list/b", "list/c/1"), names(get(cluster.node(2).listImages("list/", 10))));
        assertEquals(List.of("list/a", "list/b"), names(get(cluster.node(1).listImages("list/", 2))));
        assertEquals(List.of("list/a", "list/b", "list/c/1", "listing"), names(get(cluster.node(0).listImages("list", 10))));
        assertEquals(List.of(), get(cluster.node(0).listImages("nothing-here", 10)));
    }

    @Test
    void aListWithAnImpossibleLimitIsInvalid() {
        assertEquals(CatalogException.Code.INVALID, failure(cluster.node(0).listImages("", 0)).code());
        assertEquals(CatalogException.Code.INVALID, failure(cluster.node(0).listImages("a b", 10)).code());
    }

    @Test
    void aDeletedImageIsGoneOnEveryNode() throws Exception {
        ImageName name = new ImageName("del/me");
        long committed = get(cluster.node(0).commitImage(name, root("d")));
        long deleted = get(cluster.node(2).deleteImage(name));
        assertTrue(deleted > committed);
        for (int i = 0; i < cluster.size(); i++) {
            assertEquals(Optional.empty(), get(cluster.node(i).getImage(name)), "read on node " + i);
        }
    }

    @Test
    void committingAnExistingNameFailsWithExistsAndKeepsTheFirstImage() throws Exception {
        ImageName name = new ImageName("dup/one");
        long index = get(cluster.node(0).commitImage(name, root("first")));
        CatalogException e = failure(cluster.node(1).commitImage(name, root("second")));
        assertEquals(CatalogException.Code.EXISTS, e.code());
        assertTrue(e.getMessage().contains("dup/one"), e.getMessage());
        assertEquals(Optional.of(new ImageInfo(name, root("first"), index)), get(cluster.node(2).getImage(name)));
    }

    @Test
    void deletingAMissingImageFailsWithNotFound() {
        CatalogException e = failure(cluster.node(1).deleteImage(new ImageName("never/was")));
        assertEquals(CatalogException.Code.NOT_FOUND, e.code());
    }

    @Test
    void gettingAMissingImageIsEmpty() throws Exception {
        assertEquals(Optional.empty(), get(cluster.node(0).getImage(new ImageName("never/was/either"))));
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(30, TimeUnit.SECONDS);
    }

    static CatalogException failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
        return assertInstanceOf(CatalogException.class, e.getCause());
    }

    private static List<String> names(List<ImageInfo> infos) {
        return infos.stream().map(i -> i.name().value()).toList();
    }
}
