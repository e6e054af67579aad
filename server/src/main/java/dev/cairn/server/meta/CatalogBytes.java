package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The field encodings every catalog message and stored value shares: length-prefixed strings
 * and byte arrays (u16 length), UUIDs as two longs, and the check that nothing is left over.
 */
final class CatalogBytes {

    /** Longest string or byte field: its length is an unsigned 16-bit prefix. */
    static final int MAX_STRING_BYTES = 0xffff;

    private CatalogBytes() {}

    static void checkFullyRead(ByteBuffer b) {
        if (b.hasRemaining()) {
            throw new MalformedMessageException("catalog message has " + b.remaining() + " unexpected trailing bytes");
        }
    }

    static void putUuid(ByteBuffer b, UUID id) {
        b.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
    }

    static UUID getUuid(ByteBuffer b) {
        return new UUID(b.getLong(), b.getLong());
    }

    static void putString(ByteBuffer b, String s) {
        putBytes(b, s.getBytes(StandardCharsets.UTF_8));
    }

    static void putBytes(ByteBuffer b, byte[] bytes) {
        if (bytes.length > MAX_STRING_BYTES) {
            throw new IllegalArgumentException("field of " + bytes.length + " bytes is longer than " + MAX_STRING_BYTES);
        }
        b.putShort((short) bytes.length).put(bytes);
    }

    static String getString(ByteBuffer b) {
        return new String(getBytes(b, MAX_STRING_BYTES), StandardCharsets.UTF_8);
    }

    static byte[] getBytes(ByteBuffer b, int max) {
        int length = b.getShort() & 0xffff;
        if (length > max) {
            throw new MalformedMessageException("field of " + length + " bytes is longer than " + max);
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return bytes;
    }

    static byte[] copyOut(ByteBuffer b) {
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }
}
