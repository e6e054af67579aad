package dev.cairn.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.engine.ManualClock;
import dev.cairn.protocol.ReplicationMessages.RepairReport;
import dev.cairn.it.TestCluster;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scheduled repair pass on a real 3-node cluster yields to clients before its steps, and then
 * does the same work as a pass an operator runs at once. Clients are played on a manual clock.
 */
class ScheduledRepairTest {

    @TempDir
    Path dir;

    @Test
    void aPassHeldBackByBusyClientsStillCountsEveryChunk() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024];
        new Random(5).nextBytes(data);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("busy", new ByteArrayInputStream(data));
            Replicator replicator = cluster.server(0).replicator();
            RepairReport atOnce = replicator.repairNow();
            assertTrue(atOnce.scannedChunks() > 0, atOnce.toString());

            ManualClock clock = new ManualClock();
            ClientTraffic traffic = new ClientTraffic(clock);
            traffic.record();
            Duration allowance = Duration.ofSeconds(3);
            // Clients never stop: every wait ends with another request.
            YieldToClients yield = new YieldToClients(traffic, Duration.ofSeconds(1), allowance, d -> {
                clock.advance(d);
                traffic.record();
            }, replicator::operatorWaiting);
            long yieldedBefore = cluster.server(0).metrics().registry().counter("cairn_repair_yielded_millis_total").getCount();
            RepairReport scheduled = replicator.repair(yield);

            assertEquals(allowance, yield.held(), "the pass waited for clients, up to its allowance");
            assertEquals(allowance.toMillis(), cluster.server(0).metrics().registry()
                    .counter("cairn_repair_yielded_millis_total").getCount() - yieldedBefore);
            assertEquals(atOnce.scannedChunks(), scheduled.scannedChunks());
            assertEquals(0, scheduled.belowReplicas());
        }
    }

    @Test
    void anOperatorsRepairDoesNotWaitOutAScheduledPassHeldBackByClients() throws Exception {
        byte[] data = new byte[2 * 1024 * 1024];
        new Random(6).nextBytes(data);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("held", new ByteArrayInputStream(data));
            Replicator replicator = cluster.server(0).replicator();
            ManualClock clock = new ManualClock();
            ClientTraffic traffic = new ClientTraffic(clock);
            traffic.record();
            CountDownLatch holding = new CountDownLatch(1);
            // Clients that never stop, and an allowance of a day: 5 ms of real time per second of it,
            // so this pass alone would hold the lock for about seven minutes.
            YieldToClients endless = new YieldToClients(traffic, Duration.ofSeconds(1), Duration.ofDays(1), d -> {
                holding.countDown();
                Thread.sleep(5);
                clock.advance(d);
                traffic.record();
            }, replicator::operatorWaiting);
            CompletableFuture<RepairReport> scheduled = CompletableFuture.supplyAsync(() -> replicator.repair(endless));
            assertTrue(holding.await(30, TimeUnit.SECONDS), "the scheduled pass is yielding");

            RepairReport operators = replicator.repairAsync().get(60, TimeUnit.SECONDS);
            RepairReport held = scheduled.get(5, TimeUnit.SECONDS);
            assertTrue(endless.held().compareTo(Duration.ofHours(1)) < 0, "held back " + endless.held());
            assertEquals(held.scannedChunks(), operators.scannedChunks());
            assertTrue(operators.scannedChunks() > 0, operators.toString());
        }
    }
}
