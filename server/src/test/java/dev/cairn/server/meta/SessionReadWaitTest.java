package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cairn.engine.ImageName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wait behind a session read, on a real Raft group: released by the apply, forgotten on time-out. */
class SessionReadWaitTest {

    @TempDir
    Path dir;

    @Test
    void aWaitEndsWhenTheIndexIsAppliedAndATimedOutWaitLeavesNothingBehind() throws Exception {
        MetaCluster cluster = new MetaCluster(dir, 3);
        try {
            cluster.startAll();
            MetaService node = cluster.node(1);
            CatalogStateMachine machine = node.stateMachine();
            get(node.commitImage(new ImageName("wait/first"), root("a")));
            // Wait for the index after the last applied one. The group may apply entries of its own
            // meanwhile (it did in CI), so take the first wait that is still pending when made.
            CompletableFuture<Void> waiting = null;
            for (int attempt = 0; attempt < 100 && (waiting == null || waiting.isDone()); attempt++) {
                long next = machine.getLastAppliedTermIndex().getIndex() + 1;
                waiting = machine.appliedAtLeast(next, Duration.ofSeconds(30));
            }
            assertFalse(waiting.isDone(), "a wait for the next index is pending until something is applied");
            get(cluster.node(0).commitImage(new ImageName("wait/second"), root("b")));
            waiting.get(30, TimeUnit.SECONDS); // the apply of the next entry releases it

            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> machine.appliedAtLeast(1_000_000, Duration.ofMillis(200)).get(10, TimeUnit.SECONDS));
            assertInstanceOf(java.util.concurrent.TimeoutException.class, e.getCause());
            assertEquals(0, machine.waitingReads(), "a timed-out wait is dropped, not kept until the index comes");
        } finally {
            cluster.close();
        }
    }
}
