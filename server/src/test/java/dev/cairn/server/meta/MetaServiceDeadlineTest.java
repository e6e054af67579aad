package dev.cairn.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operation deadline of a catalog read, measured on the node's clock, moved by hand. */
class MetaServiceDeadlineTest {

    @TempDir
    Path dir;

    @Test
    void aReadWithoutALeaderFailsOnceTheOperationTimeoutHasPassedOnTheNodesClock() throws Exception {
        ManualClock clock = new ManualClock();
        // One node of a group of three: it never finds a majority, so it never knows a leader.
        try (MetaCluster cluster = new MetaCluster(dir, 3, MetaService.Tuning.DEFAULT, clock)) {
            cluster.start(0);
            MetaService node = cluster.node(0);

            CompletableFuture<Optional<?>> read = node.getImage(new ImageName("deadline/a")).thenApply(o -> o);
            // Until the clock moves, the read keeps retrying (every 200 ms of real time) and stays pending.
            clock.advance(CatalogCalls.OPERATION_TIMEOUT.minusMillis(1));
            assertFalse(read.isDone(), "a read fails only once its whole operation timeout has passed");

            clock.advance(Duration.ofMillis(1));
            // Well under the 15 s timeout in real time: only the manual clock can have ended the read.
            ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(5, TimeUnit.SECONDS));
            CatalogException failure = assertInstanceOf(CatalogException.class, e.getCause());
            assertEquals(CatalogException.Code.UNAVAILABLE, failure.code());
            assertTrue(failure.getMessage().contains("no Raft leader reachable within 15s"), failure.getMessage());
            assertTrue(failure.getMessage().contains("no leader known to node n0"), failure.getMessage());
        }
    }
}
