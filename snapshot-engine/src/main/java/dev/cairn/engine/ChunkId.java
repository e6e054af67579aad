package dev.cairn.engine;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** The identity of a chunk: the SHA-256 of its uncompressed bytes. Immutable. */
public final class ChunkId implements Comparable<ChunkId> {

    public static final int LENGTH_BYTES = 32;

    private static final HexFormat HEX = HexFormat.of();
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    });

    private final byte[] bytes;
    private final int hash;

    private ChunkId(byte[] bytes) {
        this.bytes = bytes;
        this.hash = (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
    }

    /** Wraps 32 bytes of a SHA-256 digest (copied). */
    public static ChunkId fromBytes(byte[] digest) {
        if (digest.length != LENGTH_BYTES) {
            throw new IllegalArgumentException("a chunk id is 32 bytes, got " + digest.length);
        }
        return new ChunkId(digest.clone());
    }

    /** Reads 32 bytes at the buffer's position and advances it. */
    public static ChunkId read(ByteBuffer buffer) {
        byte[] b = new byte[LENGTH_BYTES];
        buffer.get(b);
        return new ChunkId(b);
    }

    /** Parses 64 hex digits. */
    public static ChunkId fromHex(String hex) {
        if (hex.length() != 2 * LENGTH_BYTES) {
            throw new IllegalArgumentException("a chunk id is 64 hex digits, got '" + hex + "'");
        }
        return new ChunkId(HEX.parseHex(hex));
    }

    /** Hashes {@code length} bytes of {@code data} from {@code offset}. */
    public static ChunkId of(byte[] data, int offset, int length) {
        MessageDigest digest = SHA256.get();
        digest.update(data, offset, length);
        return new ChunkId(digest.digest());
    }

    /** Hashes the remaining bytes of the buffer without moving its position. */
    public static ChunkId of(ByteBuffer data) {
        MessageDigest digest = SHA256.get();
        digest.update(data.duplicate());
        return new ChunkId(digest.digest());
    }

    public static ChunkId of(byte[] data) {
        return of(data, 0, data.length);
    }

    /** True when these are the id of {@code data}: the check every reader and writer makes. */
    public boolean matches(ByteBuffer data) {
        MessageDigest digest = SHA256.get();
        digest.update(data.duplicate());
        return MessageDigest.isEqual(bytes, digest.digest());
    }

    public boolean matches(byte[] data, int offset, int length) {
        MessageDigest digest = SHA256.get();
        digest.update(data, offset, length);
        return MessageDigest.isEqual(bytes, digest.digest());
    }

    /** The last byte of the digest (content-defined cuts over lists of ids use its bits). */
    public int lastByte() {
        return bytes[LENGTH_BYTES - 1] & 0xff;
    }

    /** A copy of the 32 bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Writes the 32 bytes at the buffer's position. */
    public void write(ByteBuffer buffer) {
        buffer.put(bytes);
    }

    public String toHex() {
        return HEX.formatHex(bytes);
    }

    /** The first 12 hex digits, enough to name a chunk in a message. */
    public String shortHex() {
        return toHex().substring(0, 12);
    }

    @Override
    public int compareTo(ChunkId other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkId other && hash == other.hash && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return toHex();
    }
}
