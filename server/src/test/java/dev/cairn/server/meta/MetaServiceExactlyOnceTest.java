package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once commits: a second apply of the same (client id, call id) is what a retry after a
 * lost reply looks like to the state machine, whichever server the retry went through.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServiceExactlyOnceTest {

    /** Calls are remembered for 60 log entries, so that a test can outlive the window. */
    private static final MetaService.Tuning SHORT_WINDOW =
            new MetaService.Tuning(10_000, SizeInBytes.valueOf("8MB"), 1024, 60);

    @TempDir
    static Path dir;

    private MetaCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = new MetaCluster(dir, 3, SHORT_WINDOW).startAll();
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theSameCommitCallAppliedTwiceReturnsTheSameIndexAndCommitsOnce() throws Exception {
        ImageName name = new ImageName("once/commit");
        UUID client = UUID.randomUUID();
        long first = get(cluster.node(0).commitImage(name, root("a"), client, 1));
        long repeatedBefore = totalRepeated();
        long retry = get(cluster.node(1).commitImage(name, root("a"), client, 1)); // through another server
        assertEquals(first, retry, "a retry must return the first commit's index");
        assertTrue(totalRepeated() > repeatedBefore, "the retry was not answered from the recorded call");
        List<ImageInfo> images = get(cluster.node(2).listImages("once/commit", 10));
        assertEquals(List.of(new ImageInfo(name, root("a"), first)), images);
    }

    @Test
    void aDifferentCallForTheSameNameIsRefusedWithExists() throws Exception {
        ImageName name = new ImageName("once/exists");
        UUID client = UUID.randomUUID();
        get(cluster.node(0).commitImage(name, root("a"), client, 1));
        assertCode(CatalogException.Code.EXISTS, () -> get(cluster.node(0).commitImage(name, root("a"), client, 2)));
        assertCode(CatalogException.Code.EXISTS,
                () -> get(cluster.node(0).commitImage(name, root("a"), UUID.randomUUID(), 1)));
    }

    @Test
    void aRetriedDeleteReturnsTheFirstResultNotNotFound() throws Exception {
        ImageName name = new ImageName("once/delete");
        UUID client = UUID.randomUUID();
        get(cluster.node(0).commitImage(name, root("d"), client, 1));
        long deleted = get(cluster.node(1).deleteImage(name, client, 2));
        assertEquals(deleted, get(cluster.node(2).deleteImage(name, client, 2)));
        assertCode(CatalogException.Code.NOT_FOUND, () -> get(cluster.node(2).deleteImage(name, client, 3)));
    }

    @Test
    void aRefusalIsRecordedToo() throws Exception {
        ImageName name = new ImageName("once/refused");
        UUID client = UUID.randomUUID();
        assertCode(CatalogException.Code.NOT_FOUND, () -> get(cluster.node(0).deleteImage(name, client, 1)));
        get(cluster.node(0).commitImage(name, root("r"), UUID.randomUUID(), 1));
        // The retry gets the first answer; it does not delete the image committed meanwhile.
        assertCode(CatalogException.Code.NOT_FOUND, () -> get(cluster.node(1).deleteImage(name, client, 1)));
        assertTrue(get(cluster.node(1).getImage(name)).isPresent());
    }

    @Test
    void aCallIsForgottenOnceTheLogHasMovedPastTheWindow() throws Exception {
        ImageName name = new ImageName("once/window");
        UUID client = UUID.randomUUID();
        long first = get(cluster.node(0).commitImage(name, root("w"), client, 1));
        UUID other = UUID.randomUUID();
        for (int i = 0; i < 40; i++) { // ~80 log entries with Ratis' metadata entries, > 60
            get(cluster.node(0).commitImage(new ImageName("once/filler-" + i), root("f" + i), other, i));
        }
        // Outside the window a retry is applied again: images are immutable, so it is refused
        // (EXISTS), never a second version.
        CatalogException e = assertCode(CatalogException.Code.EXISTS,
                () -> get(cluster.node(0).commitImage(name, root("w"), client, 1)));
        assertTrue(e.getMessage().contains("index " + first), e.getMessage());
    }

    @Test
    void aRetryAfterALeaderChangeStillReturnsTheFirstResult() throws Exception {
        ImageName name = new ImageName("once/leader-change");
        UUID client = UUID.randomUUID();
        int leader = cluster.leader();
        long first = get(cluster.node(leader).commitImage(name, root("l"), client, 1));
        cluster.stop(leader);
        try {
            int other = (leader + 1) % 3;
            assertTrue(cluster.node(other).awaitLeader(Duration.ofSeconds(30)));
            assertEquals(first, get(cluster.node(other).commitImage(name, root("l"), client, 1)));
        } finally {
            cluster.start(leader);
            assertTrue(cluster.node(leader).awaitLeader(Duration.ofSeconds(30)));
        }
    }

    private long totalRepeated() {
        long n = 0;
        for (int i = 0; i < cluster.size(); i++) {
            if (cluster.node(i) != null) {
                n += cluster.node(i).stateMachine().callsRepeated();
            }
        }
        return n;
    }

    interface Action {
        void run() throws Exception;
    }

    static CatalogException assertCode(CatalogException.Code code, Action action) {
        ExecutionException e = assertThrows(ExecutionException.class, action::run);
        CatalogException c = assertInstanceOf(CatalogException.class, e.getCause());
        assertEquals(code, c.code(), c.getMessage());
        return c;
    }
}
