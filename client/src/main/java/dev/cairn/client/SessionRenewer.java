package dev.cairn.client;

import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MessageType;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps one put's upload session leased while the put runs: renews it every third of its lease
 * on the client's background scheduler (no thread of its own), so a put may take longer than the
 * lease, while a session whose client stopped renewing (a dead process) runs out within one lease
 * and no longer holds GC epochs back (docs/gc.md).
 *
 * <p>A renewal that fails on its way (no answer, a leader change) is tried again at the next tick
 * and is not fatal by itself: the session's lease reaches at least two more ticks, and the commit
 * decides. A renewal the catalog refuses (SESSION_EXPIRED: the lease ran out in log time, so GC
 * may have swept what the put uploaded) ends the renewals, and {@link #check} then fails the put.
 */
final class SessionRenewer implements AutoCloseable {

    private final Cluster cluster;
    private final UUID session;
    private final Duration lease;
    private final SessionRenewals hook;
    /** Per node asked: a renewal that has not answered by the next tick is of no more use than a new one. */
    private final Duration timeout;
    private volatile ScheduledFuture<?> timer;
    /** At most one renewal in flight: a tick that finds one still waiting skips. */
    private final AtomicBoolean inFlight = new AtomicBoolean();
    private volatile boolean stopped;
    private volatile String refusal;

    /** A renewer of {@code session}, leased for {@code lease}; it renews nothing before {@link #start}. */
    SessionRenewer(Cluster cluster, UUID session, Duration lease, SessionRenewals hook) {
        this.cluster = cluster;
        this.session = session;
        this.lease = lease;
        this.hook = hook;
        Duration interval = interval(lease);
        this.timeout = interval.compareTo(cluster.config().requestTimeout()) < 0 ? interval : cluster.config().requestTimeout();
    }

    /** Starts renewing the session, which has just been opened; after {@link #close} it does nothing. */
    synchronized void start() {
        if (stopped || timer != null) {
            return;
        }
        long every = interval(lease).toNanos();
        timer = cluster.background().scheduleWithFixedDelay(this::tick, every, every, TimeUnit.NANOSECONDS);
    }

    /** How often a session of {@code lease} is renewed: a third of it, so two renewals in a row may fail. */
    static Duration interval(Duration lease) {
        Duration third = lease.dividedBy(3);
        return third.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : third;
    }

    private void tick() {
        if (stopped || refusal != null || !inFlight.compareAndSet(false, true)) {
            return;
        }
        try {
            renew();
        } catch (RuntimeException e) {
            // A task that throws is never run again by the scheduler: this tick failed, the next one tries.
            inFlight.set(false);
        }
    }

    private void renew() {
        try {
            hook.beforeRenewal(session);
        } catch (RuntimeException e) {
            inFlight.set(false);
            hook.afterRenewal(session, new CairnException("renewal of upload session " + session + " not sent: "
                    + e.getMessage(), e));
            return;
        }
        java.util.concurrent.CompletableFuture<NodeConnection.Reply> call;
        try {
            call = cluster.metadataCallAsync(MessageType.RENEW_SESSION,
                    new GcMessages.RenewSession(session, lease.toMillis()).encode(), timeout);
        } catch (RuntimeException e) {
            call = java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        call.whenComplete((reply, error) -> {
            CairnException failure = error == null ? null : asCairn(error);
            if (failure instanceof CairnException.SessionExpired && !stopped) {
                refusal = failure.getMessage();
                cancelTimer();
            }
            inFlight.set(false);
            hook.afterRenewal(session, failure);
        });
    }

    private static CairnException asCairn(Throwable error) {
        Throwable cause = Cluster.unwrap(error);
        return cause instanceof CairnException c ? c : new CairnException(Failures.cause(cause), cause);
    }

    /**
     * Throws {@link CairnException.SessionExpired} once the catalog has refused a renewal: the put
     * must neither go on uploading nor commit. Called by the put's own thread.
     */
    void check() {
        String why = refusal;
        if (why != null) {
            throw new CairnException.SessionExpired("the put's upload session ran out before the put finished ("
                    + why + "); nothing was committed, put the image again");
        }
    }

    /** Stops renewing; a renewal in flight may still be applied, which is harmless once the session closes. */
    @Override
    public synchronized void close() {
        stopped = true;
        cancelTimer();
    }

    private void cancelTimer() {
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
    }
}
