package dev.cairn.server.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogImageMessages.CommitImage;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogQuotaMessages.RemoveQuota;
import dev.cairn.server.meta.CatalogQuotaMessages.SetQuota;
import dev.cairn.server.meta.CatalogStore.Applied;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quota entries and the quota check of a commit, on a real catalog database, without Raft. */
class QuotaEntriesTest {

    @TempDir
    Path dir;

    private final CatalogApply entries = new CatalogApply(200_000);
    private long index;

    @Test
    void aCommitThatWouldExceedIsRefusedNamingPrefixUsedMaxAndSizeAndChangesNothing() throws Exception {
        try (CatalogStore store = CatalogStore.open(dir)) {
            assertEquals(Status.OK, apply(store, new SetQuota("team-a/", 10_000)).status());
            assertEquals(Status.OK, apply(store, commit("team-a/1", 6_000)).status());
            assertEquals(6_000, used(store, "team-a/"));

            Reply refused = apply(store, commit("team-a/2", 5_000));
            assertEquals(Status.QUOTA_EXCEEDED, refused.status());
            String m = refused.message();
            assertTrue(m.contains("team-a/2 (5000 bytes)") && m.contains("quota of team-a/")
                    && m.contains("6000 of its 10000 bytes") && m.contains("cairn admin quota set team-a/"), m);
            assertEquals(Optional.empty(), store.get(new ImageName("team-a/2")), "nothing committed");
            assertTrue(store.get(new ImageName("team-a/1")).isPresent(), "the earlier image is intact");
            assertEquals(6_000, used(store, "team-a/"));

            assertEquals(Status.OK, apply(store, commit("team-a/3", 4_000)).status(), "exactly up to the maximum fits");
            assertEquals(10_000, used(store, "team-a/"));
            assertEquals(Status.OK, apply(store, new DeleteImage(new ImageName("team-a/1"))).status());
            assertEquals(4_000, used(store, "team-a/"), "a delete gives its bytes back");
            assertEquals(Status.OK, apply(store, commit("team-a/2", 5_000)).status());
            assertEquals(Status.OK, apply(store, commit("team-ab/x", 50_000)).status(), "team-ab/ is another tenant");
            assertEquals(9_000, used(store, "team-a/"));
        }
    }

    @Test
    void aQuotaSetOnAPopulatedPrefixCountsWhatIsThereAndAResetKeepsTheCount() throws Exception {
        try (CatalogStore store = CatalogStore.open(dir)) {
            apply(store, commit("t/a", 3_000));
            apply(store, commit("t/b/c", 2_000));
            apply(store, commit("u/a", 7_000));
            apply(store, new SetQuota("t/", 4_000));
            assertEquals(5_000, used(store, "t/"), "counts the images already under the prefix, even over the maximum");
            assertEquals(Status.QUOTA_EXCEEDED, apply(store, commit("t/d", 1)).status());
            apply(store, new SetQuota("t/", 6_000));
            assertEquals(new StoredQuota("t/", 6_000, 5_000), store.quotas().get("t/").orElseThrow());
            assertEquals(Status.OK, apply(store, commit("t/d", 1_000)).status());
            assertEquals(Status.QUOTA_EXCEEDED, apply(store, commit("t/e", 1)).status());
        }
    }

    @Test
    void nestedQuotasEachCountAndTheTighterOneRefuses() throws Exception {
        try (CatalogStore store = CatalogStore.open(dir)) {
            apply(store, new SetQuota("org/", 100_000));
            apply(store, new SetQuota("org/ci/", 3_000));
            assertEquals(Status.OK, apply(store, commit("org/ci/1", 2_000)).status());
            Reply refused = apply(store, commit("org/ci/2", 2_000));
            assertEquals(Status.QUOTA_EXCEEDED, refused.status());
            assertTrue(refused.message().contains("quota of org/ci/"), refused.message());
            assertEquals(Status.OK, apply(store, commit("org/prod/1", 2_000)).status());
            assertEquals(List.of(new StoredQuota("org/", 100_000, 4_000), new StoredQuota("org/ci/", 3_000, 2_000)),
                    store.quotas().all());
        }
    }

    @Test
    void anExistingNameIsRefusedAsExistsWithoutBeingCountedAndARetriedRefusalAnswersTheSame() throws Exception {
        try (CatalogStore store = CatalogStore.open(dir)) {
            apply(store, new SetQuota("a/", 1_000));
            apply(store, commit("a/1", 800));
            assertEquals(Status.EXISTS, apply(store, commit("a/1", 100)).status(), "images are immutable: never replaced");
            assertEquals(800, used(store, "a/"));
            Call call = new Call(UUID.randomUUID(), 1, commit("a/2", 300));
            Reply first = apply(store, call);
            assertEquals(Status.QUOTA_EXCEEDED, first.status());
            apply(store, new RemoveQuota("a/"));
            assertEquals(first, apply(store, call), "a retry answers as the first apply did, even after the quota went");
            assertEquals(Status.NOT_FOUND, apply(store, new RemoveQuota("a/")).status());
            assertEquals(Status.OK, apply(store, commit("a/3", 5_000)).status(), "no quota, no limit");
        }
    }

    /** A Raft snapshot is a checkpoint of the whole catalog: a node installing one gets the quotas and their counts. */
    @Test
    void aSnapshotCarriesTheQuotasAndTheirCounts() throws Exception {
        Path catalog = dir.resolve("catalog");
        Path snapshot = dir.resolve("sm").resolve("snapshot");
        try (CatalogStore store = CatalogStore.open(catalog)) {
            apply(store, new SetQuota("s/", 9_000));
            apply(store, commit("s/1", 2_500));
            java.nio.file.Files.createDirectories(snapshot.getParent());
            store.checkpoint(snapshot);
        }
        Path installed = dir.resolve("installed");
        CatalogSnapshots.installInto(snapshot, installed);
        try (CatalogStore store = CatalogStore.open(installed)) {
            assertEquals(List.of(new StoredQuota("s/", 9_000, 2_500)), store.quotas().all());
            assertEquals(Status.QUOTA_EXCEEDED, apply(store, commit("s/2", 6_501)).status());
        }
    }

    private static CommitImage commit(String name, long logicalBytes) {
        ImageRoot root = new ImageRoot(ChunkId.of(name.getBytes(StandardCharsets.UTF_8)), logicalBytes, 10, 1, 1, 1L);
        return new CommitImage(new ImageName(name), root);
    }

    private static long used(CatalogStore store, String prefix) throws Exception {
        return store.quotas().get(prefix).orElseThrow().usedBytes();
    }

    /** Applies {@code request} as the next log entry, as the state machine does: one batch, one write. */
    private Reply apply(CatalogStore store, Request request) throws Exception {
        Applied at = new Applied(1, ++index);
        try (CatalogBatch batch = store.batch()) {
            Reply reply = entries.apply(request, new Applying(store, batch, at.index()));
            store.write(batch, at);
            return reply;
        }
    }
}
