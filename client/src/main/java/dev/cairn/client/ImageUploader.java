package dev.cairn.client;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.manifest.ChunkRef;
import dev.cairn.engine.manifest.EntryPaths;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.engine.manifest.Manifest;
import dev.cairn.engine.manifest.ManifestCodec;
import dev.cairn.engine.manifest.ManifestTree;
import dev.cairn.engine.protocol.Messages;
import dev.cairn.engine.protocol.MessageType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * One put: walks the source, cuts files into chunks and hashes them here (dedup before the
 * network), hands them to a {@link ChunkWriter}, stores the manifest as chunks the same way and
 * finally commits the image root through the Raft catalog. The commit is sent only after every
 * chunk the manifest references is durable on N_W nodes.
 */
final class ImageUploader {

    private final Cluster cluster;
    private final ProgressListener progress;
    private final ChunkEncoder encoder = new ChunkEncoder();
    private long done;
    private long total;

    ImageUploader(Cluster cluster, ProgressListener progress) {
        this.cluster = cluster;
        this.progress = progress;
    }

    /** A directory (its contents become the image) or a single regular file. */
    PutResult putPath(ImageName name, Path source) {
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new CairnException.LocalIo("cannot put " + source + ": no such file or directory", null);
        }
        List<Source> sources = walk(source);
        for (Source s : sources) {
            total += s.size;
        }
        ChunkWriter writer = new ChunkWriter(cluster);
        List<FileEntry> entries = new ArrayList<>(sources.size());
        for (Source s : sources) {
            entries.add(switch (s.type) {
                case DIRECTORY -> FileEntry.directory(s.path, s.mode);
                case SYMLINK -> FileEntry.symlink(s.path, s.linkTarget);
                default -> new FileEntry(s.path, FileType.REGULAR, s.mode, s.size, "", chunkFile(s.file, s.path, writer));
            });
        }
        return commit(name, new Manifest(entries), writer);
    }

    /** A single stream, stored as a one-entry stream image. */
    PutResult putStream(ImageName name, InputStream in) {
        total = -1;
        ChunkWriter writer = new ChunkWriter(cluster);
        List<ChunkRef> refs = new ArrayList<>();
        long size = 0;
        try {
            while (true) {
                byte[] chunk = in.readNBytes(ChunkingPolicy.BLOCK_BYTES);
                if (chunk.length == 0) {
                    break;
                }
                ChunkData data = encoder.encode(chunk, 0, chunk.length);
                writer.add(data);
                refs.add(new ChunkRef(data.id(), chunk.length));
                size += chunk.length;
                advance(chunk.length);
            }
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot read the input stream: " + e.getMessage(), e);
        }
        FileEntry entry = new FileEntry("", FileType.STREAM, 0644, size, "", refs);
        return commit(name, new Manifest(List.of(entry)), writer);
    }

    private List<ChunkRef> chunkFile(Path file, String path, ChunkWriter writer) {
        int chunkSize = ChunkingPolicy.chunkSizeFor(path);
        List<ChunkRef> refs = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            while (true) {
                ByteBuffer buffer = ByteBuffer.allocate(chunkSize);
                while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                    // fill the chunk; a short read is not the end of the file
                }
                if (buffer.position() == 0) {
                    break;
                }
                byte[] bytes = buffer.position() == chunkSize ? buffer.array()
                        : java.util.Arrays.copyOf(buffer.array(), buffer.position());
                ChunkData data = encoder.encode(bytes, 0, bytes.length);
                writer.add(data);
                refs.add(new ChunkRef(data.id(), bytes.length));
                advance(bytes.length);
                if (bytes.length < chunkSize) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot read " + file + ": " + e.getMessage(), e);
        }
        return refs;
    }

    private PutResult commit(ImageName name, Manifest manifest, ChunkWriter writer) {
        ManifestTree.Built tree = ManifestTree.build(ManifestCodec.encode(manifest));
        tree.chunks().forEach(writer::add);
        // Every chunk, data and manifest, is durable on N_W nodes before the commit is sent.
        writer.finish();
        ImageRoot root = new ImageRoot(tree.rootId(), manifest.logicalBytes(), writer.uniqueStoredBytes(),
                manifest.entries().size(), manifest.chunkCount(), System.currentTimeMillis());
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.COMMIT_IMAGE,
                new Messages.CommitImage(name, root).encode());
        long commitIndex = Messages.decodeLong(reply.header());
        return new PutResult(name.value(), manifest.logicalBytes(), writer.sentBytes(), manifest.chunkCount(),
                writer.newChunks(), writer.uniqueStoredBytes(), commitIndex);
    }

    private void advance(long bytes) {
        done += bytes;
        progress.onProgress(done, total);
    }

    /** One thing found by the walk. */
    private record Source(String path, Path file, FileType type, int mode, long size, String linkTarget) {}

    private static List<Source> walk(Path source) {
        List<Source> found = new ArrayList<>();
        try {
            BasicFileAttributes rootAttrs = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (rootAttrs.isRegularFile()) {
                found.add(new Source(source.getFileName().toString(), source, FileType.REGULAR, mode(source),
                        rootAttrs.size(), ""));
                return found;
            }
            if (!rootAttrs.isDirectory()) {
                throw new CairnException.LocalIo("cannot put " + source + ": not a directory or a regular file", null);
            }
            Files.walkFileTree(source, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (!dir.equals(source)) {
                        found.add(new Source(relative(source, dir), dir, FileType.DIRECTORY, mode(dir), 0, ""));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String path = relative(source, file);
                    if (attrs.isSymbolicLink()) {
                        found.add(new Source(path, file, FileType.SYMLINK, 0777, 0, Files.readSymbolicLink(file).toString()));
                    } else if (attrs.isRegularFile()) {
                        found.add(new Source(path, file, FileType.REGULAR, mode(file), attrs.size(), ""));
                    } else {
                        throw new CairnException.LocalIo("cannot put " + file + ": it is a special file (device, socket "
                                + "or pipe), which images cannot hold", null);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    throw e;
                }
            });
        } catch (NoSuchFileException e) {
            throw new CairnException.LocalIo("cannot put " + source + ": " + e.getFile() + " vanished while reading", e);
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot put " + source + ": " + e.getMessage(), e);
        }
        found.sort((a, b) -> EntryPaths.compare(a.path, b.path));
        for (Source s : found) {
            String problem = EntryPaths.problem(s.path);
            if (problem != null) {
                throw new CairnException.LocalIo("cannot put " + s.file + ": " + problem, null);
            }
        }
        return found;
    }

    private static String relative(Path root, Path p) {
        StringBuilder sb = new StringBuilder();
        for (Path part : root.relativize(p)) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(part);
        }
        return sb.toString();
    }

    private static int mode(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 07777;
    }
}
