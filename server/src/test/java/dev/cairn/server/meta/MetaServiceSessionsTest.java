package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaServiceExactlyOnceTest.assertCode;
import static dev.cairn.server.meta.MetaServiceSnapshotTest.awaitTrue;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ManualClock;
import dev.cairn.server.meta.CatalogStore.GcPhase;
import dev.cairn.server.meta.CatalogStore.GcState;
import dev.cairn.server.meta.CatalogStore.Session;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Upload sessions and GC epoch state in the catalog, with a leader clock the test moves. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetaServiceSessionsTest {

    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    static Path dir;

    private final ManualClock clock = new ManualClock(T0);
    private MetaCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = new MetaCluster(dir, 3, MetaService.Tuning.DEFAULT, clock).startAll();
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void anOpenSessionIsTheSameOnEveryReplicaWithALeaseInLeaderTime() throws Exception {
        UUID session = UUID.randomUUID();
        UUID client = UUID.randomUUID();
        long now = clock.millis();
        long index = get(cluster.node(1).openSession(session, client, Duration.ofSeconds(30)));
        Session expected = new Session(session, client, index, now + 30_000);
        for (int i = 0; i < cluster.size(); i++) {
            MetaService node = cluster.node(i);
            awaitTrue(() -> node.status().appliedIndex() >= index, "node did not apply the session");
            assertEquals(Optional.of(expected), node.stateMachine().session(session), "node " + i);
        }
        // Reopening renews the lease and keeps the first index; another client cannot take it.
        clock.advance(Duration.ofMillis(10_000));
        assertEquals(index, get(cluster.node(0).openSession(session, client, Duration.ofSeconds(30))));
        assertEquals(now + 40_000, leaderSession(session).orElseThrow().leaseExpiryMillis());
        assertCode(CatalogException.Code.EXISTS,
                () -> get(cluster.node(0).openSession(session, UUID.randomUUID(), Duration.ofSeconds(30))));

        get(cluster.node(2).closeSession(session));
        assertEquals(Optional.empty(), leaderSession(session));
        assertCode(CatalogException.Code.NOT_FOUND, () -> get(cluster.node(2).closeSession(session)));
    }

    @Test
    void aLeaseOutOfRangeIsRefused() {
        assertCode(CatalogException.Code.INVALID,
                () -> get(cluster.node(0).openSession(UUID.randomUUID(), UUID.randomUUID(), Duration.ZERO)));
        assertCode(CatalogException.Code.INVALID,
                () -> get(cluster.node(0).openSession(UUID.randomUUID(), UUID.randomUUID(), Duration.ofDays(2))));
    }

    @Test
    void sweepingWaitsForSessionsOpenedBeforeTheEpochUntilTheyCloseOrExpire() throws Exception {
        UUID client = UUID.randomUUID();
        UUID early = UUID.randomUUID();
        UUID closed = UUID.randomUUID();
        get(cluster.node(0).openSession(early, client, Duration.ofMinutes(1)));
        get(cluster.node(0).openSession(closed, client, Duration.ofMinutes(10)));

        long epoch = leaderGc().epoch() + 1;
        long begun = get(cluster.node(1).beginGcEpoch(epoch));
        assertEquals(new GcState(epoch, GcPhase.MARKING, begun), leaderGc());
        // What a node checks GC requests against: begun, not cleared to sweep.
        assertEquals(new MetaService.LocalGcState(epoch, false), cluster.node(cluster.leader()).localGcState());
        assertCode(CatalogException.Code.INVALID, () -> get(cluster.node(1).beginGcEpoch(epoch)));
        assertCode(CatalogException.Code.INVALID, () -> get(cluster.node(1).beginGcEpoch(epoch + 2)));

        // A session opened after the epoch began does not hold the sweep back.
        get(cluster.node(2).openSession(UUID.randomUUID(), client, Duration.ofHours(1)));

        CatalogException busy = assertCode(CatalogException.Code.BUSY, () -> get(cluster.node(2).gcMaySweep(epoch)));
        assertTrue(busy.getMessage().contains("2 upload session(s)"), busy.getMessage());
        get(cluster.node(2).closeSession(closed));
        busy = assertCode(CatalogException.Code.BUSY, () -> get(cluster.node(2).gcMaySweep(epoch)));
        assertTrue(busy.getMessage().contains("1 upload session(s)"), busy.getMessage());

        clock.advance(Duration.ofMinutes(2)); // the early session's lease ends in log time
        long sweep = get(cluster.node(0).gcMaySweep(epoch));
        assertEquals(new GcState(epoch, GcPhase.SWEEPING, begun), leaderGc());
        assertEquals(new MetaService.LocalGcState(epoch, true), cluster.node(cluster.leader()).localGcState());
        assertTrue(sweep > begun);
        assertEquals(Optional.empty(), leaderSession(early), "an expired session is dropped when the sweep is allowed");
        assertCode(CatalogException.Code.INVALID, () -> get(cluster.node(0).gcMaySweep(epoch + 1)));
        get(cluster.node(0).beginGcEpoch(epoch + 1));
    }

    @Test
    void aRenewalExtendsAnOpenSessionsLeaseOnEveryReplicaAndKeepsItsFirstIndex() throws Exception {
        expireEverySessionSoFar();
        UUID session = UUID.randomUUID();
        UUID client = UUID.randomUUID();
        long t = clock.millis();
        long opened = get(cluster.node(0).openSession(session, client, Duration.ofSeconds(10)));
        long epoch = leaderGc().epoch() + 1;
        get(cluster.node(0).beginGcEpoch(epoch));

        clock.advance(Duration.ofMillis(6_000));
        long renewed = get(cluster.node(1).renewSession(session, Duration.ofSeconds(10)));
        assertTrue(renewed > opened);
        Session expected = new Session(session, client, opened, t + 16_000);
        for (int i = 0; i < cluster.size(); i++) {
            MetaService node = cluster.node(i);
            awaitTrue(() -> node.status().appliedIndex() >= renewed, "node did not apply the renewal");
            assertEquals(Optional.of(expected), node.stateMachine().session(session), "node " + i);
        }
        // A shorter lease does not shorten it.
        get(cluster.node(2).renewSession(session, Duration.ofMillis(1)));
        assertEquals(Optional.of(expected), leaderSession(session));

        // Past the first lease, the renewed session still holds the epoch back and may commit.
        clock.advance(Duration.ofMillis(8_000));
        CatalogException busy = assertCode(CatalogException.Code.BUSY, () -> get(cluster.node(2).gcMaySweep(epoch)));
        assertTrue(busy.getMessage().contains("1 upload session(s)"), busy.getMessage());
        long committed = get(cluster.node(0).commitImage(new dev.cairn.engine.ImageName("renewed/" + session),
                MetaCluster.root("renewed"), session, client, 1, false));
        assertTrue(committed > renewed);
        get(cluster.node(0).closeSession(session));
        get(cluster.node(0).gcMaySweep(epoch));
    }

    @Test
    void aClosingCommitThatSucceedsClosesItsSessionOnEveryReplicaAndARefusedOneLeavesItOpen() throws Exception {
        UUID client = UUID.randomUUID();
        UUID session = UUID.randomUUID();
        get(cluster.node(0).openSession(session, client, Duration.ofMinutes(1)));
        dev.cairn.engine.ImageName name = new dev.cairn.engine.ImageName("closing/" + session);
        long committed = get(cluster.node(1).commitImage(name, MetaCluster.root("closing"), session, client, 1, true));
        for (int i = 0; i < cluster.size(); i++) {
            MetaService node = cluster.node(i);
            awaitTrue(() -> node.status().appliedIndex() >= committed, "node did not apply the commit");
            assertEquals(Optional.empty(), node.stateMachine().session(session), "node " + i);
        }
        // A client of this build sends no close after such a commit; one sent anyway finds none.
        assertCode(CatalogException.Code.NOT_FOUND, () -> get(cluster.node(2).closeSession(session)));

        // A commit refused because the name is taken leaves its session open: the put fails and closes it.
        UUID second = UUID.randomUUID();
        get(cluster.node(0).openSession(second, client, Duration.ofMinutes(1)));
        assertCode(CatalogException.Code.EXISTS,
                () -> get(cluster.node(0).commitImage(name, MetaCluster.root("other"), second, client, 2, true)));
        assertTrue(leaderSession(second).isPresent());
        get(cluster.node(0).closeSession(second));
        assertEquals(Optional.empty(), leaderSession(second));
    }

    @Test
    void aRenewalOfAnExpiredSessionIsRefusedAndTheSessionNeverComesBack() throws Exception {
        LeasedSession leased = openFiveSecondSessionInNewEpoch();
        UUID session = leased.session();
        UUID client = leased.client();
        long t = leased.openedAtMillis();
        long epoch = leased.epoch();

        clock.advance(Duration.ofMillis(5_000)); // the lease ends exactly now in log time: expired
        CatalogException refused = assertCode(CatalogException.Code.SESSION_EXPIRED,
                () -> get(cluster.node(1).renewSession(session, Duration.ofSeconds(60))));
        assertTrue(refused.getMessage().contains("expired (0 ms of log time ago)"), refused.getMessage());
        assertEquals(t + 5_000, leaderSession(session).orElseThrow().leaseExpiryMillis(),
                "a refused renewal changes nothing");

        // The expired session does not hold the epoch back; it is dropped when the sweep is allowed.
        get(cluster.node(2).gcMaySweep(epoch));
        assertEquals(Optional.empty(), leaderSession(session));

        // Renewing it now finds it not open, and does not re-create it.
        refused = assertCode(CatalogException.Code.SESSION_EXPIRED,
                () -> get(cluster.node(0).renewSession(session, Duration.ofSeconds(60))));
        assertTrue(refused.getMessage().contains("not open"), refused.getMessage());
        assertEquals(Optional.empty(), leaderSession(session));
        assertCode(CatalogException.Code.SESSION_EXPIRED, () -> get(cluster.node(0).commitImage(
                new dev.cairn.engine.ImageName("expired/" + session), MetaCluster.root("expired"), session, client, 1, true)));
        // Nor is a session that was never opened.
        UUID never = UUID.randomUUID();
        assertCode(CatalogException.Code.SESSION_EXPIRED, () -> get(cluster.node(0).renewSession(never, Duration.ofSeconds(60))));
        assertEquals(Optional.empty(), leaderSession(never));

        // The next epoch does not wait for it either.
        get(cluster.node(0).beginGcEpoch(epoch + 1));
        get(cluster.node(0).gcMaySweep(epoch + 1));
    }

    @Test
    void anOpenAppliedAgainAfterTheLeaseEndedIsRefusedAndDoesNotReviveTheSession() throws Exception {
        LeasedSession leased = openFiveSecondSessionInNewEpoch();
        UUID session = leased.session();
        UUID client = leased.client();
        long t = leased.openedAtMillis();
        long epoch = leased.epoch();

        // While leased, opening again (a retry whose first answer was lost) renews it.
        clock.advance(Duration.ofMillis(1_000));
        get(cluster.node(2).openSession(session, client, Duration.ofSeconds(5)));
        assertEquals(t + 6_000, leaderSession(session).orElseThrow().leaseExpiryMillis());

        clock.advance(Duration.ofMillis(5_000)); // the lease ends exactly now in log time: expired
        CatalogException refused = assertCode(CatalogException.Code.SESSION_EXPIRED,
                () -> get(cluster.node(1).openSession(session, client, Duration.ofSeconds(60))));
        assertTrue(refused.getMessage().contains("expired (0 ms of log time ago)"), refused.getMessage());
        assertEquals(t + 6_000, leaderSession(session).orElseThrow().leaseExpiryMillis(),
                "a refused open changes nothing");
        // The epoch does not wait for it, and its commit is refused.
        get(cluster.node(2).gcMaySweep(epoch));
        assertCode(CatalogException.Code.SESSION_EXPIRED, () -> get(cluster.node(0).commitImage(
                new dev.cairn.engine.ImageName("reopened/" + session), MetaCluster.root("reopened"), session, client, 1, true)));
    }

    @Test
    void aRenewalLeaseOutOfRangeIsRefused() throws Exception {
        UUID session = UUID.randomUUID();
        get(cluster.node(0).openSession(session, UUID.randomUUID(), Duration.ofSeconds(30)));
        assertCode(CatalogException.Code.INVALID, () -> get(cluster.node(0).renewSession(session, Duration.ZERO)));
        assertCode(CatalogException.Code.INVALID, () -> get(cluster.node(0).renewSession(session, Duration.ofDays(2))));
        get(cluster.node(0).closeSession(session));
    }

    /**
     * Moves the leader clock past the longest lease, so that sessions the other tests left open
     * (they share the cluster) no longer hold back this test's epoch.
     */
    private void expireEverySessionSoFar() {
        clock.advance(Duration.ofMillis(CatalogSessionMessages.MAX_LEASE_MILLIS + 1));
    }

    /** A session opened with a 5 s lease at log time {@code openedAtMillis}, while GC epoch {@code epoch} marks. */
    private record LeasedSession(UUID session, UUID client, long openedAtMillis, long epoch) {}

    /** Expires the other tests' sessions, opens a 5 s session, then begins the next GC epoch, which must wait for it. */
    private LeasedSession openFiveSecondSessionInNewEpoch() throws Exception {
        expireEverySessionSoFar();
        UUID session = UUID.randomUUID();
        UUID client = UUID.randomUUID();
        long openedAt = clock.millis();
        get(cluster.node(0).openSession(session, client, Duration.ofSeconds(5)));
        long epoch = leaderGc().epoch() + 1;
        get(cluster.node(1).beginGcEpoch(epoch));
        return new LeasedSession(session, client, openedAt, epoch);
    }

    private Optional<Session> leaderSession(UUID id) throws Exception {
        return cluster.node(cluster.leader()).stateMachine().session(id);
    }

    private GcState leaderGc() throws Exception {
        return cluster.node(cluster.leader()).stateMachine().gcState();
    }
}
