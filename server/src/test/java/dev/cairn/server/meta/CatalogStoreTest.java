package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.meta.CatalogStore.Applied;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogStoreTest {

    @TempDir
    Path dir;

    @Test
    void aNewCatalogHasAppliedNothing() throws Exception {
        try (CatalogStore store = CatalogStore.open(dir)) {
            assertEquals(new Applied(0, -1), store.lastApplied());
        }
    }

    @Test
    void imagesAndTheAppliedIndexSurviveAReopenTogether() throws Exception {
        ImageName a = new ImageName("a/1");
        ImageName b = new ImageName("a/2");
        try (CatalogStore store = CatalogStore.open(dir)) {
            store.put(a, root("a"), new Applied(1, 5));
            store.put(b, root("b"), new Applied(1, 6));
            store.delete(b, new Applied(2, 8));
            store.markApplied(new Applied(2, 9));
        }
        try (CatalogStore store = CatalogStore.open(dir)) {
            assertEquals(new Applied(2, 9), store.lastApplied());
            assertEquals(Optional.of(new ImageInfo(a, root("a"), 5)), store.get(a));
            assertEquals(Optional.empty(), store.get(b));
        }
    }

    @Test
    void listStopsAtTheEndOfThePrefixAndAtTheLimit() throws Exception {
        try (CatalogStore store = CatalogStore.open(dir)) {
            long index = 1;
            for (String n : List.of("job/b", "job/a", "job-2/x", "jobs", "jo", "k")) {
                store.put(new ImageName(n), root(n), new Applied(1, index++));
            }
            assertEquals(List.of("job/a", "job/b"), names(store.list("job/", 10)));
            assertEquals(List.of("job-2/x", "job/a"), names(store.list("job", 2)));
            assertEquals(List.of("jo", "job-2/x", "job/a", "job/b", "jobs", "k"), names(store.list("", 10)));
            assertEquals(List.of(), names(store.list("l", 10)));
        }
    }

    private static List<String> names(List<ImageInfo> infos) {
        return infos.stream().map(i -> i.name().value()).toList();
    }
}
