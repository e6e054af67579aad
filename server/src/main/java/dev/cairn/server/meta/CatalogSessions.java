package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogException.Code;
import dev.cairn.server.meta.CatalogGcMessages.BeginGcEpoch;
import dev.cairn.server.meta.CatalogGcMessages.GcMaySweep;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogSessionMessages.CloseSession;
import dev.cairn.server.meta.CatalogSessionMessages.OpenSession;
import dev.cairn.server.meta.CatalogSessionMessages.RenewSession;
import java.io.IOException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The upload sessions and GC epochs behind {@link MetaService}'s session and GC calls: written
 * through the Raft log (arguments checked first), the GC state read from this node's replica.
 */
final class CatalogSessions {

    private final CatalogCalls requests;
    private final Supplier<CatalogStateMachine> machine;

    CatalogSessions(CatalogCalls requests, Supplier<CatalogStateMachine> machine) {
        this.requests = requests;
        this.machine = machine;
    }

    /** See {@link MetaService#openSession}. */
    CompletableFuture<Long> open(UUID sessionId, UUID clientId, Duration lease) {
        OpenSession open;
        try {
            open = new OpenSession(sessionId, clientId, lease.toMillis(), 0);
        } catch (IllegalArgumentException | NullPointerException e) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, e.getMessage(), e));
        }
        return requests.submit(open).thenApply(Reply::index);
    }

    /** See {@link MetaService#renewSession}. */
    CompletableFuture<Long> renew(UUID sessionId, Duration lease) {
        RenewSession renew;
        try {
            renew = new RenewSession(sessionId, lease.toMillis(), 0);
        } catch (IllegalArgumentException | NullPointerException e) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, e.getMessage(), e));
        }
        return requests.submit(renew).thenApply(Reply::index);
    }

    /** See {@link MetaService#closeSession}. */
    CompletableFuture<Long> close(UUID sessionId) {
        return requests.submit(new CloseSession(sessionId)).thenApply(Reply::index);
    }

    /** See {@link MetaService#beginGcEpoch}. */
    CompletableFuture<Long> beginGcEpoch(long epoch) {
        if (epoch < 1) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, "GC epoch " + epoch + " is not positive"));
        }
        return requests.submit(new BeginGcEpoch(epoch, 0)).thenApply(Reply::index);
    }

    /** See {@link MetaService#gcMaySweep}. */
    CompletableFuture<Long> gcMaySweep(long epoch) {
        if (epoch < 1) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, "GC epoch " + epoch + " is not positive"));
        }
        return requests.submit(new GcMaySweep(epoch, 0)).thenApply(Reply::index);
    }

    /** See {@link MetaService#localGcState}. */
    MetaService.LocalGcState localGcState() {
        try {
            CatalogStore.GcState gc = machine.get().gcState();
            return new MetaService.LocalGcState(gc.epoch(), gc.phase() == CatalogStore.GcPhase.SWEEPING);
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "cannot read the GC epoch: " + e.getMessage(), e);
        }
    }
}
