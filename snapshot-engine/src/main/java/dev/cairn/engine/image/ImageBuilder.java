package dev.cairn.engine.image;

import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.manifest.ChunkRef;
import dev.cairn.engine.manifest.EntryPaths;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import dev.cairn.engine.manifest.Manifest;
import dev.cairn.engine.manifest.ManifestCodec;
import java.io.IOException;
import java.io.InputStream;
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
 * Turns a source (a directory, a single file, a tar or a stream) into a manifest, feeding every
 * chunk through a {@link ChunkPipeline}. The same code serves {@code put} and {@code estimate},
 * so an estimate is what the store would get.
 */
public final class ImageBuilder {

    private final ChunkPipeline pipeline;

    public ImageBuilder(ChunkPipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Sizes of what a source holds, known before its bytes are read (for progress). */
    public static long sizeOf(List<DirectoryEntry> entries) {
        long sum = 0;
        for (DirectoryEntry e : entries) {
            sum += e.size();
        }
        return sum;
    }

    /** One thing found by a directory walk. */
    public record DirectoryEntry(String path, Path file, FileType type, int mode, long size, String linkTarget) {}

    /** Walks a directory (its contents become the image) or takes a single regular file; canonical order. */
    public static List<DirectoryEntry> walk(Path source) throws SourceException {
        List<DirectoryEntry> found = new ArrayList<>();
        try {
            BasicFileAttributes rootAttrs = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (rootAttrs.isRegularFile()) {
                found.add(new DirectoryEntry(source.getFileName().toString(), source, FileType.REGULAR, mode(source),
                        rootAttrs.size(), ""));
                return found;
            }
            if (!rootAttrs.isDirectory()) {
                throw new SourceException("cannot put " + source + ": not a directory or a regular file");
            }
            Files.walkFileTree(source, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (!dir.equals(source)) {
                        found.add(new DirectoryEntry(relative(source, dir), dir, FileType.DIRECTORY, mode(dir), 0, ""));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String path = relative(source, file);
                    if (attrs.isSymbolicLink()) {
                        found.add(new DirectoryEntry(path, file, FileType.SYMLINK, 0777, 0, Files.readSymbolicLink(file).toString()));
                    } else if (attrs.isRegularFile()) {
                        found.add(new DirectoryEntry(path, file, FileType.REGULAR, mode(file), attrs.size(), ""));
                    } else {
                        throw new SourceException("cannot put " + file + ": it is a special file (device, socket "
                                + "or pipe), which images cannot hold");
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    throw e;
                }
            });
        } catch (SourceException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new SourceException("cannot put " + source + ": " + e.getFile() + " does not exist or vanished while reading", e);
        } catch (IOException e) {
            throw new SourceException("cannot put " + source + ": " + e.getMessage(), e);
        }
        found.sort((a, b) -> EntryPaths.compare(a.path, b.path));
        for (DirectoryEntry s : found) {
            String problem = EntryPaths.problem(s.path);
            if (problem != null) {
                throw new SourceException("cannot put " + s.file + ": " + problem);
            }
        }
        return found;
    }

    /** Chunks the walked entries' files and returns the manifest; every chunk has reached the sink on return. */
    public Manifest fromDirectory(List<DirectoryEntry> entries) throws SourceException {
        List<List<ChunkRef>> refs = new ArrayList<>(entries.size());
        for (DirectoryEntry e : entries) {
            List<ChunkRef> fileRefs = new ArrayList<>();
            refs.add(fileRefs);
            if (e.type() != FileType.REGULAR) {
                continue;
            }
            try (InputStream in = Files.newInputStream(e.file(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                pipeline.add(e.path(), in, fileRefs);
            } catch (IOException x) {
                throw new SourceException("cannot read " + e.file() + ": " + x.getMessage(), x);
            }
        }
        pipeline.drain();
        List<FileEntry> out = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            DirectoryEntry e = entries.get(i);
            out.add(switch (e.type()) {
                case DIRECTORY -> FileEntry.directory(e.path(), e.mode());
                case SYMLINK -> FileEntry.symlink(e.path(), e.linkTarget());
                default -> {
                    long sum = sum(refs.get(i));
                    if (sum != e.size()) {
                        throw new SourceException("cannot put " + e.file() + ": it changed size while being read ("
                                + e.size() + " bytes, then " + sum + ")");
                    }
                    yield new FileEntry(e.path(), FileType.REGULAR, e.mode(), sum, "", refs.get(i));
                }
            });
        }
        return new Manifest(out);
    }

    /** A single stream, stored as a one-entry stream image (cut by FastCDC). */
    public Manifest fromStream(InputStream in) throws SourceException {
        List<ChunkRef> refs = new ArrayList<>();
        try {
            pipeline.add("", in, refs);
        } catch (IOException e) {
            throw new SourceException("cannot read the input stream: " + e.getMessage(), e);
        }
        pipeline.drain();
        return new Manifest(List.of(new FileEntry("", FileType.STREAM, 0644, sum(refs), "", refs)));
    }

    /**
     * A tar archive (ustar, GNU, PAX), stored as a directory image of its entries. Refused with a
     * {@link SourceException} naming the entry: absolute paths, {@code ..}, an entry below a
     * symlink or a file (it would be written through it on restore), the same path twice, hard
     * links, devices, sparse files and oversized or corrupt headers. Directories that the archive
     * implies but does not list are added with mode 0755. An archive that ends without its
     * end-of-archive blocks is refused too (it was cut off).
     */
    public Manifest fromTar(InputStream in) throws SourceException {
        return fromTar(in, TarOptions.STRICT);
    }

    /** A tar archive as {@link #fromTar(InputStream)}, read as {@code options} say. */
    public Manifest fromTar(InputStream in, TarOptions options) throws SourceException {
        TarReader tar = new TarReader(in, options);
        java.util.Map<String, TarEntry> byPath = new java.util.HashMap<>();
        try {
            TarReader.Header h;
            while ((h = tar.next()) != null) {
                if (isRoot(h)) {
                    continue; // the archive's own root directory
                }
                checkTarPath(h, byPath);
                TarEntry e = switch (h.type()) {
                    case Tar.DIRECTORY -> new TarEntry(FileType.DIRECTORY, h.mode(), "", List.of());
                    case Tar.SYMLINK -> new TarEntry(FileType.SYMLINK, 0777, symlinkTarget(h), List.of());
                    default -> {
                        List<ChunkRef> refs = new ArrayList<>();
                        pipeline.add(h.path(), tar.data(), refs);
                        yield new TarEntry(FileType.REGULAR, h.mode(), "", refs);
                    }
                };
                byPath.put(h.path(), e);
            }
        } catch (SourceException e) {
            throw e;
        } catch (IOException e) {
            throw new SourceException("cannot read the tar archive: " + e.getMessage(), e);
        }
        pipeline.drain();
        addParentDirectories(byPath);
        return manifestOf(byPath);
    }

    private static Manifest manifestOf(java.util.Map<String, TarEntry> byPath) {
        List<String> paths = new ArrayList<>(byPath.keySet());
        paths.sort(EntryPaths::compare);
        List<FileEntry> out = new ArrayList<>(paths.size());
        for (String path : paths) {
            TarEntry e = byPath.get(path);
            out.add(switch (e.type) {
                case DIRECTORY -> FileEntry.directory(path, e.mode);
                case SYMLINK -> FileEntry.symlink(path, e.linkTarget);
                default -> new FileEntry(path, FileType.REGULAR, e.mode, sum(e.refs), "", e.refs);
            });
        }
        return new Manifest(out);
    }

    /** One entry of a source that yields its files one by one, each file's bytes as a stream of unknown length. */
    public record StreamedEntry(String path, FileType type, int mode, String linkTarget, InputStream data) {}

    /** A source of {@link StreamedEntry}s, read in order; null ends it. */
    public interface EntrySource {
        /** The next entry; a regular file's data is read to its end and closed before this is called again. */
        StreamedEntry next() throws IOException;
    }

    /**
     * Entries yielded one by one (a CRIU dump arriving over its page-server connection), stored as
     * a directory image and checked as a tar's entries are: safe paths, each path once, parents
     * added as directories. A source that fails fails the whole put, so nothing is committed.
     */
    public Manifest fromEntries(EntrySource source) throws SourceException {
        java.util.Map<String, TarEntry> byPath = new java.util.HashMap<>();
        try {
            StreamedEntry e;
            while ((e = source.next()) != null) {
                String problem = EntryPaths.problem(e.path());
                if (problem != null) {
                    throw new SourceException("cannot put entry '" + e.path() + "': " + problem);
                }
                if (byPath.size() >= ManifestCodec.MAX_ENTRIES || byPath.containsKey(e.path())) {
                    throw new SourceException("cannot put entry '" + e.path() + "': "
                            + (byPath.containsKey(e.path()) ? "it appears twice" : "more than " + ManifestCodec.MAX_ENTRIES + " entries"));
                }
                List<ChunkRef> refs = new ArrayList<>();
                if (e.type() == FileType.REGULAR) {
                    try (InputStream in = e.data()) {
                        pipeline.add(e.path(), in, refs);
                    }
                }
                byPath.put(e.path(), new TarEntry(e.type(), e.mode(), e.linkTarget(), refs));
            }
        } catch (SourceException e) {
            throw e;
        } catch (IOException e) {
            throw new SourceException(e.getMessage(), e);
        }
        pipeline.drain();
        addParentDirectories(byPath);
        return manifestOf(byPath);
    }

    /** Whether {@code h} is the archive's own root directory; a file or symlink in its place is refused. */
    private static boolean isRoot(TarReader.Header h) throws SourceException {
        if (!h.path().isEmpty() && !h.path().equals(".")) {
            return false;
        }
        if (h.type() != Tar.DIRECTORY) {
            throw new SourceException("tar: entry '" + h.path() + "' names the archive's root but is not a "
                    + "directory; its data would be lost");
        }
        return true;
    }

    /** Refuses an entry whose path is unsafe, one too many, or already taken (a directory may repeat). */
    private static void checkTarPath(TarReader.Header h, java.util.Map<String, TarEntry> byPath) throws SourceException {
        String problem = EntryPaths.problem(h.path());
        if (problem != null) {
            throw new SourceException("tar: refusing entry '" + h.path() + "': " + problem);
        }
        if (byPath.size() >= ManifestCodec.MAX_ENTRIES) {
            throw new SourceException("tar: more than " + ManifestCodec.MAX_ENTRIES + " entries");
        }
        TarEntry previous = byPath.get(h.path());
        if (previous != null && !(previous.type == FileType.DIRECTORY && h.type() == Tar.DIRECTORY)) {
            throw new SourceException("tar: entry '" + h.path() + "' appears twice in the archive");
        }
    }

    /** The symlink's target, if an image can hold it (not empty, no NUL, within the manifest's limit). */
    private static String symlinkTarget(TarReader.Header h) throws SourceException {
        if (h.linkTarget().isEmpty() || h.linkTarget().indexOf('\0') >= 0) {
            throw new SourceException("tar: symlink '" + h.path() + "' has an empty or invalid target");
        }
        int targetBytes = h.linkTarget().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (targetBytes > ManifestCodec.MAX_PATH_BYTES) {
            throw new SourceException("tar: symlink '" + h.path() + "' has a target of " + targetBytes
                    + " bytes; images hold targets of at most " + ManifestCodec.MAX_PATH_BYTES + " bytes");
        }
        return h.linkTarget();
    }

    /**
     * Adds the directories a tar leaves implicit. Every parent must be a directory of the image:
     * an entry under a symlink would be written through the link on restore, outside the destination.
     */
    private static void addParentDirectories(java.util.Map<String, TarEntry> byPath) throws SourceException {
        for (String path : new ArrayList<>(byPath.keySet())) {
            int slash = path.lastIndexOf('/');
            while (slash > 0) {
                String parent = path.substring(0, slash);
                TarEntry p = byPath.get(parent);
                if (p == null) {
                    byPath.put(parent, new TarEntry(FileType.DIRECTORY, 0755, "", List.of()));
                } else if (p.type != FileType.DIRECTORY) {
                    throw new SourceException("tar: refusing entry '" + path + "': its parent '" + parent + "' is a "
                            + (p.type == FileType.SYMLINK ? "symlink (the entry would escape through it)" : "file"));
                }
                slash = parent.lastIndexOf('/');
            }
        }
    }

    private record TarEntry(FileType type, int mode, String linkTarget, List<ChunkRef> refs) {}

    static long sum(List<ChunkRef> refs) {
        long sum = 0;
        for (ChunkRef r : refs) {
            sum += r.rawLength();
        }
        return sum;
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
