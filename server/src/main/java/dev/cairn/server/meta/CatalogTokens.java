package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogException.Code;
import dev.cairn.server.meta.CatalogMessages.Reply;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The access tokens of the catalog: written through the Raft log, read from this node's own
 * replica, so a create or revoke counts on a node as soon as that node has applied it.
 */
public final class CatalogTokens {

    private final CatalogCalls requests;
    private final Supplier<CatalogStateMachine> machine;

    CatalogTokens(CatalogCalls requests, Supplier<CatalogStateMachine> machine) {
        this.requests = requests;
        this.machine = machine;
    }

    /**
     * Records an access token (with the SHA-256 of its secret, never the secret); completes with
     * its log index once this node's replica has applied it too, so it counts here on return.
     */
    public CompletableFuture<Long> create(StoredToken token) {
        return appliedHere(requests.submit(new CatalogTokenMessages.CreateToken(token, 0)));
    }

    /** Revokes token {@code id} (NOT_FOUND when there is none); completes as {@link #create}. */
    public CompletableFuture<Long> revoke(String id) {
        return appliedHere(requests.submit(new CatalogTokenMessages.RevokeToken(id)));
    }

    private CompletableFuture<Long> appliedHere(CompletableFuture<Reply> write) {
        return write.thenCompose(r -> machine.get().appliedAtLeast(r.index(), CatalogCalls.OPERATION_TIMEOUT)
                .thenApply(v -> r.index()));
    }

    /** Token {@code id} as this node's replica has applied it; empty when unknown or revoked. */
    public Optional<StoredToken> get(String id) {
        try {
            return machine.get().token(id);
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "cannot read the access tokens: " + e.getMessage(), e);
        }
    }

    /** Every token this node's replica has applied, in id order. */
    public List<StoredToken> all() {
        try {
            return machine.get().tokens();
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "cannot read the access tokens: " + e.getMessage(), e);
        }
    }
}
