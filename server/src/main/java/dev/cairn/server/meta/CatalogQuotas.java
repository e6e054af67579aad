package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogException.Code;
import dev.cairn.server.meta.CatalogMessages.Reply;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The byte quotas of the catalog: set and removed through the Raft log (commits are checked
 * against them in apply), read from this node's own replica.
 */
public final class CatalogQuotas {

    private final CatalogCalls requests;
    private final Supplier<CatalogStateMachine> machine;

    CatalogQuotas(CatalogCalls requests, Supplier<CatalogStateMachine> machine) {
        this.requests = requests;
        this.machine = machine;
    }

    /**
     * Sets the quota of {@code prefix} (ending in {@code /}) to {@code maxBytes} of logical bytes;
     * completes with its log index once this node's replica has applied it too.
     */
    public CompletableFuture<Long> set(String prefix, long maxBytes) {
        CatalogQuotaMessages.SetQuota set;
        try {
            set = new CatalogQuotaMessages.SetQuota(prefix, maxBytes);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, e.getMessage(), e));
        }
        return appliedHere(requests.submit(set));
    }

    /** Removes the quota of {@code prefix} (NOT_FOUND when there is none); completes as {@link #set}. */
    public CompletableFuture<Long> remove(String prefix) {
        CatalogQuotaMessages.RemoveQuota remove;
        try {
            remove = new CatalogQuotaMessages.RemoveQuota(prefix);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID, e.getMessage(), e));
        }
        return appliedHere(requests.submit(remove));
    }

    private CompletableFuture<Long> appliedHere(CompletableFuture<Reply> write) {
        return write.thenCompose(r -> machine.get().appliedAtLeast(r.index(), CatalogCalls.OPERATION_TIMEOUT)
                .thenApply(v -> r.index()));
    }

    /** Every quota this node's replica has applied, with its count, in prefix order. */
    public List<StoredQuota> all() {
        try {
            return machine.get().quotas();
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "cannot read the quotas: " + e.getMessage(), e);
        }
    }
}
