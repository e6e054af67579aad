package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.meta.CatalogStore.Applied;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a checkpoint into the catalog directory, without Ratis. */
class CatalogSnapshotsTest {

    @TempDir
    Path dir;

    @Test
    void installingACheckpointReplacesTheCatalogWithTheCheckpointedState() throws Exception {
        Path catalog = dir.resolve("catalog");
        Path snapshot = dir.resolve("sm").resolve("snapshot.1_6");
        ImageName kept = new ImageName("s/kept");
        ImageName later = new ImageName("s/later");
        try (CatalogStore store = CatalogStore.open(catalog)) {
            store.put(kept, root("k"), new Applied(1, 6));
            Files.createDirectories(snapshot.getParent());
            store.checkpoint(snapshot);
            store.put(later, root("l"), new Applied(1, 7)); // after the checkpoint
        }
        // Ratis leaves an .md5 beside each received file; it is not part of the checkpoint.
        Files.writeString(snapshot.resolve("CURRENT.md5"), "not a database file");

        CatalogSnapshots.installInto(snapshot, catalog);
        try (CatalogStore store = CatalogStore.open(catalog)) {
            assertEquals(new Applied(1, 6), store.lastApplied());
            assertEquals(Optional.of(new ImageInfo(kept, root("k"), 6)), store.get(kept));
            assertEquals(Optional.empty(), store.get(later));
            store.put(later, root("l2"), new Applied(2, 8)); // the installed catalog is writable
        }
        assertFalse(Files.exists(dir.resolve("catalog.old")));
        assertFalse(Files.exists(dir.resolve("catalog.installing")));
        assertFalse(Files.exists(catalog.resolve("CURRENT.md5")));
        // The snapshot itself is untouched by writes to the installed catalog (SSTs are hard links).
        Path copy = dir.resolve("again");
        CatalogSnapshots.installInto(snapshot, copy);
        try (CatalogStore store = CatalogStore.open(copy)) {
            assertEquals(new Applied(1, 6), store.lastApplied());
            assertEquals(Optional.empty(), store.get(later));
        }
    }

    @Test
    void leftoversOfAnInterruptedInstallAreRemoved() throws Exception {
        Path catalog = dir.resolve("catalog");
        Files.createDirectories(dir.resolve("catalog.installing"));
        Files.writeString(dir.resolve("catalog.installing").resolve("000001.sst"), "half");
        Files.createDirectories(dir.resolve("catalog.old"));
        CatalogSnapshots.cleanLeftovers(catalog);
        assertFalse(Files.exists(dir.resolve("catalog.installing")));
        assertFalse(Files.exists(dir.resolve("catalog.old")));
        assertTrue(Files.notExists(catalog));
    }
}
