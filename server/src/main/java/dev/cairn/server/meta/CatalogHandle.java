package dev.cairn.server.meta;

import dev.cairn.engine.Clock;
import dev.cairn.server.meta.CatalogStore.Applied;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine's catalog store behind the lock that keeps RocksDB from being used after
 * close or while a newer snapshot replaces it.
 */
final class CatalogHandle implements AutoCloseable {

    // The state machine's logger: operators know these lines under that name.
    private static final Logger LOG = LoggerFactory.getLogger(CatalogStateMachine.class);

    /** Work done with the open store, on the shared side of the lock. */
    @FunctionalInterface
    interface StoreWork<T> {
        T apply(CatalogStore store) throws IOException;
    }

    private final Path catalogDir;
    private final CatalogSnapshots snapshots;
    /** Times loading a snapshot, for the log. */
    private final Clock clock;
    /** Work takes the read side; open, snapshot load and close take the write side. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private CatalogStore store;
    private boolean closed;
    private volatile long snapshotsLoaded;

    CatalogHandle(Path catalogDir, CatalogSnapshots snapshots, Clock clock) {
        this.catalogDir = catalogDir;
        this.snapshots = snapshots;
        this.clock = clock;
    }

    /** Opens the catalog, replaced first by the latest snapshot when that is ahead of it. */
    void open() throws IOException {
        lifecycle.writeLock().lock();
        try {
            store = CatalogStore.open(catalogDir);
            loadSnapshotIfNewer();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** Replaces the open catalog by the latest snapshot when that is ahead of it (after an install). */
    void reload() throws IOException {
        lifecycle.writeLock().lock();
        try {
            checkOpen();
            loadSnapshotIfNewer();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /**
     * Replaces the catalog with the latest snapshot when the snapshot is ahead of it: after an
     * installed snapshot, or after a crash lost RocksDB writes that the (purged) log can no
     * longer replay. Caller holds the write lock.
     */
    private void loadSnapshotIfNewer() throws IOException {
        SnapshotInfo snapshot = snapshots.getLatestSnapshot();
        Applied applied = store.lastApplied();
        if (snapshot == null || snapshot.getIndex() <= applied.index()) {
            return;
        }
        long startNanos = clock.nanoTime();
        store.close();
        store = null;
        CatalogSnapshots.installInto(snapshots.latestDir(), catalogDir);
        store = CatalogStore.open(catalogDir);
        Applied loaded = store.lastApplied();
        if (loaded.index() != snapshot.getIndex() || loaded.term() != snapshot.getTerm()) {
            throw new IOException("snapshot " + snapshot.getTermIndex() + " holds a catalog at term " + loaded.term()
                    + " index " + loaded.index() + "; refusing to use it");
        }
        snapshotsLoaded++;
        LOG.info("catalog loaded from snapshot {} (was at index {}) in {} ms", snapshot.getTermIndex(),
                applied.index(), (clock.nanoTime() - startNanos) / 1_000_000);
    }

    /** Runs {@code work} with the open store; fails when the catalog is closed. */
    <T> T use(StoreWork<T> work) throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            return work.apply(store);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Times this process replaced its catalog by a snapshot (at start or after an install). */
    long snapshotsLoaded() {
        return snapshotsLoaded;
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed && store != null) {
                store.close();
            }
            closed = true;
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private void checkOpen() throws IOException {
        if (closed || store == null) {
            throw new IOException("the catalog is closed");
        }
    }
}
