package dev.cairn.client.criu;

import dev.cairn.client.CairnClient;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.manifest.ChunkRef;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One stored image opened for partial reads: its manifest once, then any byte range of any of its
 * regular files, fetching (and verifying) only the chunks that overlap the range. Safe to share
 * between threads (the lazy restores served at once): the files are fixed at open, the chunk
 * offsets are computed once per file into a concurrent map, and each read is its own fetch.
 */
public final class StoredImage {

    private final CairnClient client;
    private final String name;
    private final Map<String, FileEntry> files = new HashMap<>();
    private final Map<String, long[]> starts = new ConcurrentHashMap<>();

    private StoredImage(CairnClient client, String name, List<FileEntry> entries) {
        this.client = client;
        this.name = name;
        for (FileEntry e : entries) {
            if (e.type() == FileType.REGULAR || e.type() == FileType.STREAM) {
                files.put(e.path(), e);
            }
        }
    }

    /** Reads the manifest of image {@code name}. */
    public static StoredImage open(CairnClient client, String name) {
        return new StoredImage(client, name, client.manifest(name).entries());
    }

    /** The image's name. */
    public String name() {
        return name;
    }

    /** The regular file at {@code path}, or null when the image has none. */
    public FileEntry file(String path) {
        return files.get(path);
    }

    /** The regular files of the image. */
    public List<FileEntry> files() {
        return List.copyOf(files.values());
    }

    /** The whole of a (small) file. */
    public byte[] readAll(FileEntry file) {
        if (file.size() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(file.path() + " is too large to read at once");
        }
        return read(file, 0, (int) file.size());
    }

    /**
     * Bytes {@code [offset, offset + length)} of {@code file}, or null when the range runs past its end.
     */
    public byte[] read(FileEntry file, long offset, int length) {
        if (offset < 0 || length < 0 || offset + length > file.size()) {
            return null;
        }
        if (length == 0) {
            return new byte[0];
        }
        long[] at = starts.computeIfAbsent(file.path(), p -> chunkStarts(file.chunks()));
        int first = chunkAt(at, offset);
        List<ChunkId> ids = new ArrayList<>();
        for (int i = first; i < file.chunks().size() && at[i] < offset + length; i++) {
            ids.add(file.chunks().get(i).id());
        }
        byte[] out = new byte[length];
        long position = at[first];
        int filled = 0;
        for (ByteBuffer chunk : client.readChunks(ids)) {
            ByteBuffer b = chunk.duplicate();
            int skip = (int) Math.max(0, offset - position);
            position += b.remaining();
            b.position(b.position() + skip);
            int n = Math.min(b.remaining(), length - filled);
            b.get(out, filled, n);
            filled += n;
        }
        return out;
    }

    /** Offset in the file of each chunk's first byte. */
    private static long[] chunkStarts(List<ChunkRef> chunks) {
        long[] at = new long[chunks.size()];
        long position = 0;
        for (int i = 0; i < at.length; i++) {
            at[i] = position;
            position += chunks.get(i).rawLength();
        }
        return at;
    }

    /** The chunk that holds byte {@code offset}. */
    private static int chunkAt(long[] starts, long offset) {
        int i = Arrays.binarySearch(starts, offset);
        return i >= 0 ? i : Math.max(0, -i - 2);
    }
}
