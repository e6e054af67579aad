package dev.cairn.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.client.ChunkPeers;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.engine.ManualClock;
import dev.cairn.protocol.ReplicationMessages.RepairReport;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replicator's passes are timed and stamped on the node's clock, here a manual one: a scheduled
 * pass held back by clients reports the time it waited, an operator's pass does not wait.
 */
class ReplicatorClockTest {

    /** This node's store is empty, so a pass never asks a peer; refreshing the membership fails and is logged. */
    private static final Supplier<ChunkPeers> NO_PEERS = () -> {
        throw new IllegalStateException("no peers in this test");
    };

    @TempDir
    Path dir;

    @Test
    void aScheduledPassHeldBackByClientsReportsTheWaitOnTheNodesClock() throws Exception {
        ManualClock clock = new ManualClock();
        ClientTraffic traffic = new ClientTraffic(clock);
        NodeMetrics metrics = new NodeMetrics();
        try (ChunkStore store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults());
             Replicator replicator = new Replicator(config(), store, NO_PEERS, metrics, traffic, clock)) {
            traffic.record();
            clock.advance(Duration.ofMillis(250));
            // The pass sleeps on the manual clock: a client request 250 ms ago holds it back 750 ms more.
            YieldToClients yield = new YieldToClients(traffic, Duration.ofSeconds(1), Duration.ofMinutes(1),
                    clock::advance, () -> false);

            RepairReport scheduled = replicator.repair(yield);

            assertEquals(750, scheduled.durationMillis());
            assertEquals(clock.millis(), scheduled.finishedAtMillis());
            assertEquals(scheduled, replicator.lastReport());
            assertEquals(750, metrics.registry().counter("cairn_repair_yielded_millis_total").getCount());
        }
    }

    @Test
    void anOperatorsPassDoesNotWaitForClients() throws Exception {
        ManualClock clock = new ManualClock();
        ClientTraffic traffic = new ClientTraffic(clock);
        try (ChunkStore store = ChunkStore.open(dir.resolve("chunks"), ChunkStoreOptions.defaults());
             Replicator replicator = new Replicator(config(), store, NO_PEERS, new NodeMetrics(), traffic, clock)) {
            traffic.record();
            RepairReport report = replicator.repairNow();
            assertEquals(0, report.durationMillis());
            assertEquals(clock.millis(), report.finishedAtMillis());
            assertEquals(0, replicator.scrubNow().durationMillis());
        }
    }

    private NodeConfig config() {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", 1, 2, 3);
        return new NodeConfig("node-1", dir, Quorum.defaultFor(1), List.of(self), Limits.defaults());
    }
}
