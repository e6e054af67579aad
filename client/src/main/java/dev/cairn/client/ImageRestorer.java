package dev.cairn.client;

import dev.cairn.engine.ChunkId;
import dev.cairn.engine.image.TarWriter;
import dev.cairn.engine.manifest.ChunkRef;
import dev.cairn.engine.manifest.EntryPaths;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.Manifest;
import dev.cairn.engine.manifest.ManifestCodec;
import dev.cairn.engine.manifest.ManifestFormatException;
import dev.cairn.engine.manifest.ManifestTree;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * One get: reads the manifest tree, then the files' chunks in order with a bounded window of
 * batches in flight, verifying every chunk against its id. A restore into a directory reports
 * success only after every file and then every directory has been fsync'd.
 */
final class ImageRestorer {

    static final int MAX_BATCH_CHUNKS = 1024;
    static final int MAX_BATCH_BYTES = 4 * 1024 * 1024;
    static final int MAX_BATCHES_IN_FLIGHT = 4;

    private final ChunkReader reader;
    private final ProgressListener progress;
    private final RestoreOptions options;
    private long done;
    private long total;

    ImageRestorer(Cluster cluster, ProgressListener progress) {
        this(cluster, progress, RestoreOptions.DEFAULT);
    }

    /** A restorer that gives entries their modes as {@code options} say (setuid and setgid stripped by default). */
    ImageRestorer(Cluster cluster, ProgressListener progress, RestoreOptions options) {
        this.reader = new ChunkReader(cluster);
        this.progress = progress;
        this.options = options;
    }

    Manifest manifest(ImageInfo info) {
        byte[] bytes = ManifestTree.read(info.root().manifestId(), ids -> {
            List<ByteBuffer> chunks = await(reader.fetch(ids));
            List<byte[]> out = new ArrayList<>(chunks.size());
            for (ByteBuffer b : chunks) {
                byte[] a = new byte[b.remaining()];
                b.duplicate().get(a);
                out.add(a);
            }
            return out;
        });
        try {
            return ManifestCodec.decode(bytes);
        } catch (ManifestFormatException e) {
            throw new CairnException.CorruptData("the manifest of image " + info.name() + " is unreadable: " + e.getMessage());
        }
    }

    /** The chunks {@code ids}, verified, in order. */
    List<ByteBuffer> chunks(List<ChunkId> ids) {
        return await(reader.fetch(ids));
    }

    /** Every chunk the image references: the chunks of its manifest tree and its data chunks. */
    java.util.Set<ChunkId> referencedChunks(ImageInfo info) {
        java.util.Set<ChunkId> ids = new java.util.HashSet<>();
        byte[] bytes = ManifestTree.read(info.root().manifestId(), batch -> {
            ids.addAll(batch);
            List<ByteBuffer> chunks = await(reader.fetch(batch));
            List<byte[]> out = new ArrayList<>(chunks.size());
            for (ByteBuffer b : chunks) {
                byte[] a = new byte[b.remaining()];
                b.duplicate().get(a);
                out.add(a);
            }
            return out;
        });
        Manifest manifest;
        try {
            manifest = ManifestCodec.decode(bytes);
        } catch (ManifestFormatException e) {
            throw new CairnException.CorruptData("the manifest of image " + info.name() + " is unreadable: " + e.getMessage());
        }
        for (FileEntry e : manifest.entries()) {
            e.chunks().forEach(ref -> ids.add(ref.id()));
        }
        return ids;
    }

    /** Restores a stream image, or an image of exactly one regular file, to {@code out}. */
    GetResult toStream(ImageInfo info, OutputStream out) {
        Manifest manifest = manifest(info);
        List<FileEntry> files = manifest.entries().stream()
                .filter(e -> e.type() == FileType.STREAM || e.type() == FileType.REGULAR).toList();
        if (files.size() != 1 || manifest.entries().size() != 1) {
            throw new CairnException.NotAStream("image " + info.name() + " is a directory image of " + manifest.entries().size()
                    + " entries; restore it into a directory: cairn get " + info.name() + " DEST");
        }
        FileEntry entry = files.get(0);
        total = entry.size();
        try {
            copyChunks(entry.chunks(), b -> {
                if (b.hasArray()) {
                    out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                } else {
                    byte[] a = new byte[b.remaining()];
                    b.duplicate().get(a);
                    out.write(a);
                }
            });
            out.flush();
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot write the output: " + Failures.local(e), e);
        }
        return new GetResult(info.name().value(), entry.size(), 1, entry.chunks().size());
    }

    /**
     * Writes the image as a tar archive to {@code out}: a directory image as its entries, a
     * stream image as one file named {@code stream}. The same checks as a directory restore
     * apply, so a hostile manifest cannot produce an archive that escapes where it is unpacked,
     * and the modes are those a directory restore gives (setuid and setgid stripped unless asked):
     * {@code tar -x} as root keeps them, so the archive must not carry what the restore would not.
     */
    GetResult toTar(ImageInfo info, OutputStream out) {
        Manifest manifest = manifest(info);
        total = manifest.logicalBytes();
        TarWriter tar = new TarWriter(out, info.root().createdMillis() / 1000);
        Set<String> directories = new HashSet<>();
        try {
            for (FileEntry e : manifest.entries()) {
                String path = checkedPath(info, e, directories);
                switch (e.type()) {
                    case DIRECTORY -> {
                        tar.directory(path, options.restoredMode(e.mode()));
                        directories.add(path);
                    }
                    case SYMLINK -> tar.symlink(path, e.linkTarget());
                    case REGULAR, STREAM -> {
                        tar.file(path, e.type() == FileType.STREAM ? 0644 : options.restoredMode(e.mode()), e.size());
                        copyChunks(e.chunks(), b -> {
                            if (b.hasArray()) {
                                tar.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                            } else {
                                byte[] a = new byte[b.remaining()];
                                b.duplicate().get(a);
                                tar.write(a, 0, a.length);
                            }
                        });
                    }
                }
            }
            tar.finish();
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot write the tar output: " + Failures.local(e), e);
        }
        return new GetResult(info.name().value(), manifest.logicalBytes(), manifest.entries().size(), manifest.chunkCount());
    }

    /** The entry's path after the checks every restore makes: safe, and under a directory of the image. */
    private static String checkedPath(ImageInfo info, FileEntry e, Set<String> directories) {
        String path = e.type() == FileType.STREAM ? "stream" : e.path();
        String problem = EntryPaths.problem(path);
        if (problem != null) {
            throw new CairnException.CorruptData("image " + info.name() + " cannot be restored: " + problem);
        }
        int slash = path.lastIndexOf('/');
        String parent = slash < 0 ? "" : path.substring(0, slash);
        if (!parent.isEmpty() && !directories.contains(parent)) {
            // A parent that is not a directory of this image (a symlink, say) is never followed.
            throw new CairnException.CorruptData("image " + info.name() + " cannot be restored: entry '" + path
                    + "' does not lie under a directory of the image");
        }
        return path;
    }

    /** Restores into {@code dest}, which must not exist or be an empty directory. */
    GetResult toDirectory(ImageInfo info, Path dest) {
        Manifest manifest = manifest(info);
        prepare(dest);
        total = manifest.logicalBytes();
        Path root = dest.toAbsolutePath().normalize();
        Set<String> directories = new HashSet<>();
        List<Path> createdDirs = new ArrayList<>();
        List<FileEntry> dirEntries = new ArrayList<>();
        try {
            for (FileEntry e : manifest.entries()) {
                String path = checkedPath(info, e, directories);
                Path target = root.resolve(path).normalize();
                if (!target.startsWith(root) || target.equals(root)) {
                    throw new CairnException.CorruptData("image " + info.name() + " cannot be restored: entry '" + path
                            + "' would escape the destination");
                }
                switch (e.type()) {
                    case DIRECTORY -> {
                        Files.createDirectory(target);
                        directories.add(path);
                        createdDirs.add(target);
                        dirEntries.add(e);
                    }
                    case SYMLINK -> Files.createSymbolicLink(target, Paths.get(e.linkTarget()));
                    case REGULAR, STREAM -> writeFile(target, e);
                }
            }
            // Modes of directories last, so a read-only directory does not block its own children.
            for (int i = dirEntries.size() - 1; i >= 0; i--) {
                setMode(createdDirs.get(i), dirEntries.get(i).mode());
            }
            // Directories deepest first, then the destination and its parent, so that every
            // name created here is durable before success is reported.
            for (int i = createdDirs.size() - 1; i >= 0; i--) {
                fsyncDirectory(createdDirs.get(i));
            }
            fsyncDirectory(root);
            if (root.getParent() != null) {
                fsyncDirectory(root.getParent());
            }
        } catch (FileAlreadyExistsException e) {
            throw new CairnException.LocalIo("cannot restore: " + e.getFile() + " appeared in the destination while restoring", e);
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot restore into " + dest + ": " + Failures.local(e), e);
        }
        return new GetResult(info.name().value(), manifest.logicalBytes(), manifest.entries().size(), manifest.chunkCount());
    }

    private void writeFile(Path target, FileEntry e) throws IOException {
        try (FileChannel channel = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            copyChunks(e.chunks(), b -> {
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            });
            // The file's bytes are on disk before the restore can report success.
            channel.force(true);
        }
        if (e.type() == FileType.REGULAR) {
            setMode(target, e.mode());
        }
    }

    private interface ChunkSink {
        void accept(ByteBuffer bytes) throws IOException;
    }

    /** Fetches the chunks in batches, several batches ahead, and hands them to {@code sink} in order. */
    private void copyChunks(List<ChunkRef> refs, ChunkSink sink) throws IOException {
        ArrayDeque<CompletableFuture<List<ByteBuffer>>> window = new ArrayDeque<>();
        int next = 0;
        while (next < refs.size() || !window.isEmpty()) {
            while (next < refs.size() && window.size() < MAX_BATCHES_IN_FLIGHT) {
                List<ChunkId> batch = new ArrayList<>();
                int bytes = 0;
                while (next < refs.size() && batch.size() < MAX_BATCH_CHUNKS
                        && (batch.isEmpty() || bytes + refs.get(next).rawLength() <= MAX_BATCH_BYTES)) {
                    bytes += refs.get(next).rawLength();
                    batch.add(refs.get(next++).id());
                }
                window.add(reader.fetch(batch));
            }
            for (ByteBuffer b : await(window.poll())) {
                int length = b.remaining();
                sink.accept(b);
                done += length;
                progress.onProgress(done, total);
            }
        }
    }

    private static void prepare(Path dest) {
        try {
            if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
                    throw new CairnException.LocalIo("cannot restore into " + dest + ": it exists and is not a directory", null);
                }
                try (Stream<Path> children = Files.list(dest)) {
                    if (children.findAny().isPresent()) {
                        throw new CairnException.LocalIo("cannot restore into " + dest
                                + ": the directory is not empty; pass a new or empty directory", null);
                    }
                }
            } else {
                Files.createDirectories(dest);
            }
        } catch (DirectoryNotEmptyException e) {
            throw new CairnException.LocalIo("cannot restore into " + dest + ": the directory is not empty", e);
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot create " + dest + ": " + Failures.local(e), e);
        }
    }

    /** Gives {@code p} the image's {@code mode}, without setuid and setgid unless the options keep them. */
    private void setMode(Path p, int mode) throws IOException {
        Files.setAttribute(p, "unix:mode", options.restoredMode(mode), LinkOption.NOFOLLOW_LINKS);
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CairnException c) {
                throw c;
            }
            throw new CairnException("read failed: " + Failures.cause(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CairnException("interrupted while reading");
        }
    }
}
