package dev.cairn.engine.manifest;

import java.util.List;

/**
 * One entry of an image: a path relative to the image's root (segments separated by {@code /}),
 * its type, permission bits, size, symlink target and chunks.
 */
public record FileEntry(String path, FileType type, int mode, long size, String linkTarget, List<ChunkRef> chunks) {

    public FileEntry {
        chunks = List.copyOf(chunks);
        linkTarget = linkTarget == null ? "" : linkTarget;
        if (type == FileType.SYMLINK && linkTarget.isEmpty()) {
            throw new IllegalArgumentException("symlink " + path + " has no target");
        }
        if (type != FileType.REGULAR && type != FileType.STREAM && !chunks.isEmpty()) {
            throw new IllegalArgumentException(type + " " + path + " cannot have chunks");
        }
        long sum = 0;
        for (ChunkRef c : chunks) {
            sum += c.rawLength();
        }
        if ((type == FileType.REGULAR || type == FileType.STREAM) && sum != size) {
            throw new IllegalArgumentException("file " + path + " has size " + size + " but its chunks add up to " + sum);
        }
    }

    public static FileEntry directory(String path, int mode) {
        return new FileEntry(path, FileType.DIRECTORY, mode, 0, "", List.of());
    }

    public static FileEntry symlink(String path, String target) {
        return new FileEntry(path, FileType.SYMLINK, 0777, 0, target, List.of());
    }
}
