package dev.cairn.engine.manifest;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.chunking.FastCdc;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Stores an encoded manifest as content-addressed chunks, so that the catalog holds only one id
 * and two versions of an image share the unchanged parts of their manifests.
 *
 * <p>The manifest bytes are cut into leaf chunks by {@link FastCdc} ({@value #LEAF_MIN_BYTES} /
 * {@value #LEAF_AVG_BYTES} / {@value #LEAF_MAX_BYTES} bytes), so an edit in one file's chunk list
 * changes only the leaves around it. While a level has more than one chunk, its ids are grouped
 * into index chunks, a group ending after an id whose last byte has its low
 * {@value #INDEX_CUT_BITS} bits zero (or at {@value #FANOUT} ids): the cuts depend on the ids, not
 * on positions, so an unchanged run of leaves keeps its index chunks too. Every tree chunk starts
 * with a kind byte (0 = leaf, 1 = index), so a reader can tell them apart and cannot be made to
 * loop: the depth is bounded by {@value #MAX_DEPTH}. The layout is in {@code docs/format.md}.
 */
public final class ManifestTree {

    public static final int LEAF_MIN_BYTES = 2 * 1024;
    public static final int LEAF_AVG_BYTES = 8 * 1024;
    public static final int LEAF_MAX_BYTES = 32 * 1024;
    /** An index group ends after an id whose last byte has this many low zero bits: about 32 ids, 1 KiB. */
    public static final int INDEX_CUT_BITS = 5;
    public static final int FANOUT = 1024;
    public static final int MAX_DEPTH = 8;
    /** Largest manifest a reader accepts (about 14 million chunk refs). */
    public static final int MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

    private static final byte LEAF = 0;
    private static final byte INDEX = 1;
    private static final FastCdc LEAF_CUTTER = new FastCdc(LEAF_MIN_BYTES, LEAF_AVG_BYTES, LEAF_MAX_BYTES);

    /** The chunks of a stored manifest and the id of its root. */
    public record Built(ChunkId rootId, List<ChunkData> chunks) {}

    private ManifestTree() {}

    /** Builds the tree with raw (unencoded) chunks. */
    public static Built build(byte[] manifestBytes) {
        return build(manifestBytes, ChunkData::raw);
    }

    /** Builds the tree; {@code encoder} turns each tree chunk's raw bytes into a chunk (hashing and maybe compressing). */
    public static Built build(byte[] manifestBytes, Function<byte[], ChunkData> encoder) {
        if (manifestBytes.length > MAX_MANIFEST_BYTES) {
            throw new ManifestFormatException("manifest of " + manifestBytes.length + " bytes exceeds the limit of "
                    + MAX_MANIFEST_BYTES + " bytes");
        }
        List<ChunkData> all = new ArrayList<>();
        List<ChunkId> level = new ArrayList<>();
        int offset = 0;
        do {
            int length = LEAF_CUTTER.cut(manifestBytes, offset, manifestBytes.length - offset);
            level.add(add(all, encoder, LEAF, manifestBytes, offset, length));
            offset += length;
        } while (offset < manifestBytes.length);
        while (level.size() > 1) {
            List<ChunkId> next = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < level.size(); i++) {
                boolean last = i == level.size() - 1;
                if (last || i + 1 - start == FANOUT || isIndexCut(level.get(i))) {
                    List<ChunkId> group = level.subList(start, i + 1);
                    ByteBuffer ids = ByteBuffer.allocate(group.size() * ChunkId.LENGTH_BYTES);
                    group.forEach(id -> id.write(ids));
                    next.add(add(all, encoder, INDEX, ids.array(), 0, ids.capacity()));
                    start = i + 1;
                }
            }
            if (next.size() == level.size()) {
                // Every id was a cut: group by FANOUT so the tree still narrows.
                next.clear();
                for (int i = 0; i < level.size(); i += FANOUT) {
                    List<ChunkId> group = level.subList(i, Math.min(level.size(), i + FANOUT));
                    ByteBuffer ids = ByteBuffer.allocate(group.size() * ChunkId.LENGTH_BYTES);
                    group.forEach(id -> id.write(ids));
                    next.add(add(all, encoder, INDEX, ids.array(), 0, ids.capacity()));
                }
            }
            level = next;
        }
        return new Built(level.get(0), all);
    }

    private static boolean isIndexCut(ChunkId id) {
        return (id.lastByte() & ((1 << INDEX_CUT_BITS) - 1)) == 0;
    }

    private static ChunkId add(List<ChunkData> out, Function<byte[], ChunkData> encoder, byte kind, byte[] bytes,
                               int offset, int length) {
        byte[] chunk = new byte[1 + length];
        chunk[0] = kind;
        System.arraycopy(bytes, offset, chunk, 1, length);
        ChunkData data = encoder.apply(chunk);
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
                long total = 0;
                for (byte[] c : chunks) {
                    total += c.length - 1;
                }
                if (total > MAX_MANIFEST_BYTES) {
                    throw new ManifestFormatException("manifest of " + total + " bytes exceeds the limit of "
                            + MAX_MANIFEST_BYTES + " bytes");
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) total);
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
                if (next.size() + (c.length - 1) / ChunkId.LENGTH_BYTES > MAX_MANIFEST_BYTES / LEAF_MIN_BYTES + 1) {
                    throw new ManifestFormatException("manifest tree level lists more chunks than a manifest of "
                            + MAX_MANIFEST_BYTES + " bytes can have");
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
