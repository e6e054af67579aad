package dev.cairn.engine.manifest;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Stores an encoded manifest as content-addressed chunks, so that the catalog holds only one id.
 *
 * <p>The manifest bytes are cut into pieces of {@value #PIECE_BYTES} bytes (leaf chunks); while
 * there is more than one chunk on a level, their ids are grouped {@value #FANOUT} to an index
 * chunk. Every tree chunk starts with a kind byte (0 = leaf, 1 = index), so a reader can tell
 * them apart and cannot be made to loop: the depth is bounded by {@value #MAX_DEPTH}.
 */
public final class ManifestTree {

    public static final int PIECE_BYTES = 64 * 1024;
    public static final int FANOUT = 2048;
    public static final int MAX_DEPTH = 8;

    private static final byte LEAF = 0;
    private static final byte INDEX = 1;

    /** The chunks of a stored manifest and the id of its root. */
    public record Built(ChunkId rootId, List<ChunkData> chunks) {}

    private ManifestTree() {}

    public static Built build(byte[] manifestBytes) {
        List<ChunkData> all = new ArrayList<>();
        List<ChunkId> level = new ArrayList<>();
        int offset = 0;
        do {
            int length = Math.min(PIECE_BYTES, manifestBytes.length - offset);
            level.add(add(all, LEAF, manifestBytes, offset, length));
            offset += length;
        } while (offset < manifestBytes.length);
        while (level.size() > 1) {
            List<ChunkId> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i += FANOUT) {
                List<ChunkId> group = level.subList(i, Math.min(level.size(), i + FANOUT));
                ByteBuffer ids = ByteBuffer.allocate(group.size() * ChunkId.LENGTH_BYTES);
                group.forEach(id -> id.write(ids));
                next.add(add(all, INDEX, ids.array(), 0, ids.capacity()));
            }
            level = next;
        }
        return new Built(level.get(0), all);
    }

    private static ChunkId add(List<ChunkData> out, byte kind, byte[] bytes, int offset, int length) {
        byte[] chunk = new byte[1 + length];
        chunk[0] = kind;
        System.arraycopy(bytes, offset, chunk, 1, length);
        ChunkData data = ChunkData.raw(chunk);
        out.add(data);
        return data.id();
    }

    /**
     * Reads a manifest's bytes back. {@code fetch} returns the raw, verified bytes of the asked
     * chunks in the asked order; it is called once per tree level.
     */
    public static byte[] read(ChunkId rootId, Function<List<ChunkId>, List<byte[]>> fetch) {
        List<ChunkId> level = List.of(rootId);
        for (int depth = 0; depth <= MAX_DEPTH; depth++) {
            List<byte[]> chunks = fetch.apply(level);
            if (chunks.size() != level.size()) {
                throw new ManifestFormatException("manifest tree: asked for " + level.size() + " chunks, got " + chunks.size());
            }
            byte kind = kindOf(chunks);
            if (kind == LEAF) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (byte[] c : chunks) {
                    out.write(c, 1, c.length - 1);
                }
                return out.toByteArray();
            }
            List<ChunkId> next = new ArrayList<>();
            for (byte[] c : chunks) {
                if ((c.length - 1) % ChunkId.LENGTH_BYTES != 0 || c.length == 1) {
                    throw new ManifestFormatException("manifest index chunk has a length of " + c.length);
                }
                ByteBuffer ids = ByteBuffer.wrap(c, 1, c.length - 1);
                while (ids.hasRemaining()) {
                    next.add(ChunkId.read(ids));
                }
            }
            level = next;
        }
        throw new ManifestFormatException("manifest tree is deeper than " + MAX_DEPTH + " levels");
    }

    private static byte kindOf(List<byte[]> chunks) {
        byte kind = -1;
        for (byte[] c : chunks) {
            if (c.length == 0 || (c[0] != LEAF && c[0] != INDEX)) {
                throw new ManifestFormatException("manifest tree chunk of unknown kind");
            }
            if (kind != -1 && c[0] != kind) {
                throw new ManifestFormatException("manifest tree mixes leaf and index chunks on one level");
            }
            kind = c[0];
        }
        return kind;
    }
}
