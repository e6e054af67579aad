package dev.cairn.server.meta;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog's Raft snapshots: RocksDB checkpoints in the group's state machine directory
 * ({@code sm/}), one directory per snapshot named {@code snapshot.<term>_<index>}.
 *
 * <p>A snapshot is recorded atomically: the checkpoint is written to {@code tmp.snapshot.<term>_<index>}
 * and renamed into place, so a directory with the final name is always complete. Ratis sends a
 * snapshot to a lagging follower file by file (paths relative to {@code sm/}) and, once all files
 * have arrived and their MD5s match, replaces the follower's whole {@code sm/} directory with them
 * (it also leaves a {@code .md5} file beside each received file, which is not part of the snapshot).
 */
final class CatalogSnapshots implements StateMachineStorage {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogSnapshots.class);
    private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
    private static final String TMP_PREFIX = "tmp.";
    private static final String MD5_SUFFIX = ".md5";

    private volatile Path dir;
    private volatile SnapshotInfo latest;

    @Override
    public void init(RaftStorage raftStorage) throws IOException {
        dir = raftStorage.getStorageDir().getStateMachineDir().toPath();
        Files.createDirectories(dir);
        reload();
    }

    /** Rescans the directory; after Ratis installed a snapshot from the leader it holds new files. */
    void reload() throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            for (Path p : children.toList()) {
                if (p.getFileName().toString().startsWith(TMP_PREFIX)) {
                    deleteRecursively(p); // a checkpoint interrupted by a crash
                }
            }
        }
        latest = snapshots().stream().reduce((a, b) -> b)
                .map(p -> info(p, termIndex(p).orElseThrow())).orElse(null);
    }

    @Override
    public SnapshotInfo getLatestSnapshot() {
        return latest;
    }

    /** The directory of the latest snapshot, or null. */
    Path latestDir() {
        SnapshotInfo s = latest;
        return s == null ? null : dir.resolve(name(s.getTermIndex()));
    }

    /**
     * Checkpoints {@code store}, whose state is exactly the applied position {@code at}, as the
     * snapshot {@code at}; returns it. Called on Ratis' apply thread, so no entry is applied meanwhile.
     */
    SnapshotInfo take(CatalogStore store, TermIndex at) throws IOException {
        Path target = dir.resolve(name(at));
        if (!Files.isDirectory(target)) {
            Path tmp = dir.resolve(TMP_PREFIX + name(at));
            deleteRecursively(tmp);
            store.checkpoint(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(dir);
        }
        SnapshotInfo info = info(target, at);
        latest = info;
        return info;
    }

    @Override
    public void format() {
        // nothing to prepare: snapshot directories are created when taken
    }

    /** Keeps the newest {@code policy.getNumSnapshotsRetained()} snapshots; all of them when that is not positive. */
    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
        int keep = policy.getNumSnapshotsRetained();
        if (keep <= 0) {
            return;
        }
        List<Path> all = snapshots();
        for (int i = 0; i < all.size() - keep; i++) {
            deleteRecursively(all.get(i));
        }
    }

    /** Snapshot directories, oldest first. */
    private List<Path> snapshots() throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(p -> Files.isDirectory(p) && termIndex(p).isPresent())
                    .sorted(Comparator.comparingLong((Path p) -> termIndex(p).orElseThrow().getIndex())
                            .thenComparingLong(p -> termIndex(p).orElseThrow().getTerm()))
                    .toList();
        }
    }

    private static SnapshotInfo info(Path snapshotDir, TermIndex at) {
        List<FileInfo> files = new ArrayList<>();
        for (Path file : files(snapshotDir)) {
            files.add(new FileInfo(file, null)); // Ratis computes the MD5 while it sends the file
        }
        return new FileListSnapshotInfo(files, at);
    }

    /** The checkpoint's files (without the {@code .md5} files Ratis adds on install), sorted by name. */
    static List<Path> files(Path snapshotDir) {
        try (Stream<Path> children = Files.list(snapshotDir)) {
            return children.filter(p -> Files.isRegularFile(p) && !p.getFileName().toString().endsWith(MD5_SUFFIX))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list snapshot " + snapshotDir, e);
        }
    }

    static String name(TermIndex at) {
        return "snapshot." + at.getTerm() + "_" + at.getIndex();
    }

    private static Optional<TermIndex> termIndex(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Optional.of(TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))))
                : Optional.empty();
    }

    /**
     * Replaces the database in {@code catalogDir} with the checkpoint in {@code snapshotDir}, so that
     * a crash at any point leaves either the old database or the new one, never a mix: the copy is
     * built beside it, then the old one is renamed away and the copy renamed into place. SST files
     * are immutable in RocksDB, so they are hard-linked; the other files are copied, since RocksDB
     * appends to them.
     */
    static void installInto(Path snapshotDir, Path catalogDir) throws IOException {
        Path installing = sibling(catalogDir, ".installing");
        Path old = sibling(catalogDir, ".old");
        deleteRecursively(installing);
        deleteRecursively(old);
        Files.createDirectories(installing);
        for (Path file : files(snapshotDir)) {
            Path to = installing.resolve(file.getFileName().toString());
            if (file.getFileName().toString().endsWith(".sst")) {
                try {
                    Files.createLink(to, file);
                } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
                    Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
                }
            } else {
                Files.copy(file, to);
            }
            try (FileChannel c = FileChannel.open(to, StandardOpenOption.WRITE)) {
                c.force(true);
            }
        }
        fsyncDirectory(installing);
        if (Files.exists(catalogDir)) {
            Files.move(catalogDir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(installing, catalogDir, StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory(catalogDir.getParent());
        deleteRecursively(old);
    }

    /** Removes what an {@link #installInto} interrupted by a crash left beside the catalog. */
    static void cleanLeftovers(Path catalogDir) throws IOException {
        deleteRecursively(sibling(catalogDir, ".installing"));
        deleteRecursively(sibling(catalogDir, ".old"));
    }

    private static Path sibling(Path dir, String suffix) {
        return dir.resolveSibling(dir.getFileName() + suffix);
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    private static void fsyncDirectory(Path d) {
        try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            LOG.debug("cannot fsync directory {}: {}", d, e.toString()); // not supported on every platform
        }
    }
}
