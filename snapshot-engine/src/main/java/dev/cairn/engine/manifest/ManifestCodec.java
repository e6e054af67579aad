package dev.cairn.engine.manifest;

import dev.cairn.engine.ChunkId;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The canonical binary form of a manifest: the same tree always encodes to the same bytes, and
 * any corrupt, truncated or out-of-limit input is refused instead of decoding to a wrong tree.
 * The byte layout is in {@code docs/format.md}.
 */
public final class ManifestCodec {

    static final byte[] MAGIC = {'C', 'A', 'I', 'M'};
    static final int VERSION = 1;

    /** Longest entry path, in UTF-8 bytes. */
    public static final int MAX_PATH_BYTES = 4096;
    /** Deepest entry path, in segments. */
    public static final int MAX_DEPTH = 128;
    /** Most entries in one image. */
    public static final int MAX_ENTRIES = 4_000_000;

    private ManifestCodec() {}

    public static byte[] encode(Manifest manifest) {
        checkCanonical(manifest.entries());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 64 * manifest.entries().size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeByte(VERSION);
            out.writeInt(manifest.entries().size());
            for (FileEntry e : manifest.entries()) {
                writeString(out, e.path());
                out.writeByte(e.type().ordinal());
                out.writeInt(e.mode());
                out.writeLong(e.size());
                writeString(out, e.linkTarget());
                out.writeInt(e.chunks().size());
                for (ChunkRef c : e.chunks()) {
                    out.write(c.id().toBytes());
                    out.writeInt(c.rawLength());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static Manifest decode(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data);
        try {
            byte[] magic = new byte[MAGIC.length];
            b.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new ManifestFormatException("not a Cairn manifest (bad magic bytes)");
            }
            int version = b.get() & 0xff;
            if (version != VERSION) {
                throw new ManifestFormatException("manifest format version " + version + " is not known to this build");
            }
            int count = b.getInt();
            if (count < 0 || count > MAX_ENTRIES) {
                throw new ManifestFormatException("manifest lists " + count + " entries; the limit is " + MAX_ENTRIES);
            }
            List<FileEntry> entries = new ArrayList<>(Math.min(count, 1 << 16));
            for (int i = 0; i < count; i++) {
                String path = readString(b, "path");
                int typeCode = b.get() & 0xff;
                if (typeCode >= FileType.values().length) {
                    throw new ManifestFormatException("entry " + path + " has unknown type " + typeCode);
                }
                FileType type = FileType.values()[typeCode];
                int mode = b.getInt();
                long size = b.getLong();
                String link = readString(b, "symlink target");
                int chunkCount = b.getInt();
                if (chunkCount < 0 || (long) chunkCount * (ChunkId.LENGTH_BYTES + 4) > b.remaining()) {
                    throw new ManifestFormatException("entry " + path + " claims " + chunkCount + " chunks, more than the bytes left");
                }
                List<ChunkRef> chunks = new ArrayList<>(chunkCount);
                for (int c = 0; c < chunkCount; c++) {
                    ChunkId id = ChunkId.read(b);
                    chunks.add(new ChunkRef(id, b.getInt()));
                }
                entries.add(new FileEntry(path, type, mode, size, link, chunks));
            }
            if (b.hasRemaining()) {
                throw new ManifestFormatException("manifest has " + b.remaining() + " trailing bytes");
            }
            checkCanonical(entries);
            return new Manifest(entries);
        } catch (BufferUnderflowException e) {
            throw new ManifestFormatException("manifest is truncated");
        } catch (IllegalArgumentException e) {
            throw new ManifestFormatException("manifest is inconsistent: " + e.getMessage());
        }
    }

    /**
     * Entries must be in strictly increasing path order (so parents come before children and
     * there are no duplicates), every path must be a safe relative path within the limits, and a
     * stream image has exactly one entry.
     */
    static void checkCanonical(List<FileEntry> entries) {
        if (entries.size() > MAX_ENTRIES) {
            throw new ManifestFormatException("image has " + entries.size() + " entries; the limit is " + MAX_ENTRIES);
        }
        String previous = null;
        for (FileEntry e : entries) {
            if (e.type() == FileType.STREAM) {
                if (entries.size() != 1 || !e.path().isEmpty()) {
                    throw new ManifestFormatException("a stream entry must be the only entry and have an empty path");
                }
                continue;
            }
            String problem = EntryPaths.problem(e.path());
            if (problem != null) {
                throw new ManifestFormatException(problem);
            }
            if (previous != null && EntryPaths.compare(previous, e.path()) >= 0) {
                throw new ManifestFormatException("entries are not in canonical order: '" + e.path() + "' after '" + previous + "'");
            }
            previous = e.path();
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_PATH_BYTES) {
            throw new ManifestFormatException("path or link of " + utf8.length + " bytes exceeds " + MAX_PATH_BYTES);
        }
        out.writeShort(utf8.length);
        out.write(utf8);
    }

    private static String readString(ByteBuffer b, String what) {
        int length = b.getShort() & 0xffff;
        if (length > MAX_PATH_BYTES) {
            throw new ManifestFormatException(what + " of " + length + " bytes exceeds " + MAX_PATH_BYTES);
        }
        byte[] utf8 = new byte[length];
        b.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }
}
