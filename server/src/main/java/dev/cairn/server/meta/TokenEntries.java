package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogTokenMessages.CreateToken;
import dev.cairn.server.meta.CatalogTokenMessages.RevokeToken;
import java.io.IOException;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/** Applies the token entries: create and revoke. */
final class TokenEntries {

    private TokenEntries() {}

    static Reply create(CreateToken create, long now, Applying at) throws IOException, RocksDBException {
        StoredToken token = create.token().createdAt(now);
        Optional<StoredToken> existing = at.store().token(token.info().id());
        if (existing.isPresent()) {
            if (existing.get().sameAs(token)) {
                return Reply.ok(at.index()); // a retry of the same create
            }
            return Reply.refused(Status.EXISTS, "token " + token.info().id() + " exists already; create another");
        }
        at.batch().putToken(token);
        return Reply.ok(at.index());
    }

    static Reply revoke(RevokeToken revoke, Applying at) throws IOException, RocksDBException {
        if (at.store().token(revoke.id()).isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, "token " + revoke.id() + " does not exist (or is revoked already); "
                    + "cairn admin token ls lists them");
        }
        at.batch().deleteToken(revoke.id());
        return Reply.ok(at.index());
    }
}
