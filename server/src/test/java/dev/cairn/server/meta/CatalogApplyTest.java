package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.engine.ImageName;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogStore.Applied;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import dev.cairn.server.meta.CatalogImageMessages.GetImage;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import dev.cairn.server.meta.CatalogSessionMessages.OpenSession;
import dev.cairn.server.meta.CatalogSessionMessages.RenewSession;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The entry handlers on a real catalog database, without Raft: what each entry does to the catalog. */
class CatalogApplyTest {

    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private long index;

    @Test
    void leasesAreJudgedByLogTimeWhichNeverGoesBack() throws Exception {
        UUID session = UUID.randomUUID();
        UUID client = UUID.randomUUID();
        CatalogApply entries = new CatalogApply(200_000);
        try (CatalogStore store = CatalogStore.open(dir)) {
            assertEquals(Status.OK, apply(entries, store, new OpenSession(session, client, 500, T0)).status());
            // A new leader whose clock is behind stamps an earlier time: log time stays at T0, so the
            // renewal extends the lease to T0 + 500 at most, not to T0 - 100 + 500.
            assertEquals(Status.OK, apply(entries, store, new RenewSession(session, 400, T0 - 100)).status());
            assertEquals(T0 + 500, store.session(session).orElseThrow().leaseExpiryMillis());
            assertEquals(T0, store.logTimeMillis());

            // At the lease's end the session is expired: its commit is refused and nothing is committed.
            Reply late = apply(entries, store, new CommitInSession(new ImageName("a/1"), root("a"), session, T0 + 500, true));
            assertEquals(Status.SESSION_EXPIRED, late.status());
            assertEquals(Optional.empty(), store.get(new ImageName("a/1")));
            assertEquals(T0 + 500, store.logTimeMillis());
        }
    }

    @Test
    void aRepeatedCallGetsTheRecordedReplyAndChangesNothing() throws Exception {
        UUID session = UUID.randomUUID();
        UUID client = UUID.randomUUID();
        ImageName name = new ImageName("a/2");
        CatalogApply entries = new CatalogApply(200_000);
        try (CatalogStore store = CatalogStore.open(dir)) {
            apply(entries, store, new OpenSession(session, client, 60_000, T0));
            Call commit = new Call(client, 1, new CommitInSession(name, root("b"), session, T0 + 1, false));
            Reply first = apply(entries, store, commit);
            assertEquals(Status.OK, first.status());
            assertEquals(Status.OK, apply(entries, store, new DeleteImage(name)).status());

            assertEquals(first, apply(entries, store, commit), "a retry answers as the first apply did");
            assertEquals(1, entries.callsRepeated());
            assertEquals(Optional.empty(), store.get(name), "the retry did not commit the image again");
            assertEquals(Status.INVALID, apply(entries, store, new GetImage(name)).status(), "a query in the log");
        }
    }

    /** Applies {@code request} as the next log entry, as the state machine does: one batch, one write. */
    private Reply apply(CatalogApply entries, CatalogStore store, Request request) throws Exception {
        Applied at = new Applied(1, ++index);
        try (CatalogBatch batch = store.batch()) {
            Reply reply = entries.apply(request, new Applying(store, batch, at.index()));
            store.write(batch, at);
            return reply;
        }
    }
}
