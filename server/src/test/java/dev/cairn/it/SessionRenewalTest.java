package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.client.ClientTestHooks;
import dev.cairn.client.GcReport;
import dev.cairn.client.CairnException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upload session renewal on real 3-node clusters (docs/gc.md): a put outlives its lease by
 * renewing it, a put whose renewal is refused stops, and a session nobody renews any more stops
 * holding GC back once its lease runs out. Short leases (2 s); every wait is on a condition.
 */
class SessionRenewalTest {

    private static final Duration LEASE = Duration.ofSeconds(2);
    /**
     * Where the test needs renewals to get through: the session survives a stall of the whole
     * JVM of up to two thirds of the lease (a renewal lost, the next one in time), 2 s here.
     */
    private static final Duration RENEWED_LEASE = Duration.ofSeconds(3);
    private static final Duration GC_WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aPutHeldPastTwoLeasesCommitsBecauseItsSessionIsRenewedAndHoldsTheEpochBack() throws Exception {
        byte[] data = TestImages.random(51, 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client(RENEWED_LEASE)) {
            Semaphore renewed = new Semaphore(0);
            AtomicInteger lost = new AtomicInteger();
            ClientTestHooks.sessionRenewals(client, new ClientTestHooks.Renewals() {
                @Override
                public void afterRenewal(UUID session, CairnException failure) {
                    if (failure == null) {
                        renewed.release();
                    } else {
                        lost.incrementAndGet();
                    }
                }
            });
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try (HeldPut put = HeldPut.start(client, "long", data)) {
                // An epoch that begins now must wait for the put's session however long the put takes.
                Future<GcReport> gc = pool.submit(() -> CairnAdmin.of(client).gc(GC_WAIT));

                // Renewals run every third of the lease, at least that far apart: seven of them span
                // more than two leases since the session was opened.
                assertTrue(renewed.tryAcquire(7, 60, TimeUnit.SECONDS), "7 renewals within 60 s; " + lost + " lost");
                assertFalse(gc.isDone(), "the epoch ended while the renewed session was open");
                put.release();
                put.result().get(60, TimeUnit.SECONDS);
                GcReport report = gc.get(60, TimeUnit.SECONDS);
                System.out.printf("renewed put: %d+ renewals, %d lost; epoch %s in %d ms%n", 7 + renewed.availablePermits(),
                        lost.get(), report.completed() ? "completed" : "abandoned", report.durationMillis());
                assertTrue(report.completed(), report.abandonedBecause());
                assertEquals(0, report.freedChunks(), "the epoch swept chunks of the committed put: " + report.log());
                assertArrayEquals(data, TestImages.read(client, "long"));
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void aRefusedRenewalFailsThePutWithSessionExpiredInsteadOfUploadingOn() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client(LEASE)) {
            AtomicBoolean cutOff = new AtomicBoolean(true);
            CountDownLatch refused = new CountDownLatch(1);
            CountDownLatch renewing = new CountDownLatch(1);
            ClientTestHooks.sessionRenewals(client, new ClientTestHooks.Renewals() {
                @Override
                public void beforeRenewal(UUID session) {
                    renewing.countDown(); // the session is open: the put opens it before it renews it
                    if (cutOff.get()) {
                        throw new IllegalStateException("test: the client is cut off from the catalog");
                    }
                }

                @Override
                public void afterRenewal(UUID session, CairnException failure) {
                    if (failure instanceof CairnException.SessionExpired) {
                        refused.countDown();
                    }
                }
            });
            // A source that stops after 1 MiB until the test lets it go on, then never ends: only
            // the refused renewal can end this put.
            CountDownLatch stalled = new CountDownLatch(1);
            CountDownLatch goOn = new CountDownLatch(1);
            AtomicLong read = new AtomicLong();
            InputStream endless = new InputStream() {
                private final Random random = new Random(52);

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    read(one, 0, 1);
                    return one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (read.get() >= 1024 * 1024 && goOn.getCount() > 0) {
                        stalled.countDown();
                        await(goOn);
                    }
                    int n = Math.min(len, 64 * 1024);
                    byte[] chunk = new byte[n];
                    random.nextBytes(chunk);
                    System.arraycopy(chunk, 0, b, off, n);
                    read.addAndGet(n);
                    return n;
                }
            };
            ExecutorService pool = Executors.newSingleThreadExecutor();
            Future<?> put = pool.submit(() -> client.put("cut-off", endless));
            assertTrue(stalled.await(60, TimeUnit.SECONDS));
            // The put opens its session asynchronously (after it has read its name from the
            // catalog); an epoch begun before the open would not wait for the session at all.
            assertTrue(renewing.await(60, TimeUnit.SECONDS), "the put's session was never renewed");

            // With no renewal getting through, the epoch stops waiting once the lease runs out.
            GcReport report = CairnAdmin.of(client).gc(GC_WAIT);
            assertTrue(report.completed(), report.abandonedBecause());
            cutOff.set(false);
            assertTrue(refused.await(60, TimeUnit.SECONDS), "the next renewal was not refused");
            long readWhenRefused = read.get();
            goOn.countDown();

            ExecutionException failed = assertThrows(ExecutionException.class, () -> put.get(60, TimeUnit.SECONDS));
            CairnException.SessionExpired expired = assertInstanceOf(CairnException.SessionExpired.class, failed.getCause());
            assertTrue(expired.getMessage().contains("put the image again"), expired.getMessage());
            System.out.printf("refused renewal: the put stopped after reading %d more bytes; %s%n",
                    read.get() - readWhenRefused, expired.getMessage());
            assertThrows(CairnException.ImageNotFound.class, () -> client.stat("cut-off"));
            pool.shutdown();
        }
    }

    @Test
    void aSessionWhoseClientStoppedRenewingStopsBlockingGcWithinItsLease() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient admin = cluster.client()) {
            CairnClient dying = cluster.client(LEASE);
            Semaphore renewed = new Semaphore(0);
            ClientTestHooks.sessionRenewals(dying, new ClientTestHooks.Renewals() {
                @Override
                public void afterRenewal(UUID session, CairnException failure) {
                    if (failure == null) {
                        renewed.release();
                    }
                }
            });
            try (HeldPut put = HeldPut.start(dying, "orphan", TestImages.random(53, 1024 * 1024))) {
                assertTrue(renewed.tryAcquire(1, 60, TimeUnit.SECONDS), "the session was never renewed");

                // The client goes away mid-put without closing its session: nothing renews it any more.
                dying.close();
                GcReport report = CairnAdmin.of(admin).gc(Duration.ofSeconds(30));
                System.out.printf("orphaned session: epoch %s in %d ms, freed %d chunks; %s%n",
                        report.completed() ? "completed" : "abandoned", report.durationMillis(), report.freedChunks(), report.log());
                assertTrue(report.completed(), report.abandonedBecause());
                assertTrue(report.freedChunks() > 0, "the orphaned put's chunks were not swept: " + report.log());

                put.release();
                assertThrows(ExecutionException.class, () -> put.result().get(60, TimeUnit.SECONDS));
                assertThrows(CairnException.ImageNotFound.class, () -> admin.stat("orphan"));
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test's ordering hook timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
