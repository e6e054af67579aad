package dev.cairn.protocol;

import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Reads a header message, refusing anything that runs past its end. */
public final class WireReader {

    private final ByteBuffer buffer;

    public WireReader(ByteBuffer buffer) {
        this.buffer = buffer.duplicate();
    }

    private void need(int bytes, String what) {
        if (buffer.remaining() < bytes) {
            throw new ProtocolException("truncated message: " + what + " needs " + bytes + " bytes, "
                    + buffer.remaining() + " left");
        }
    }

    public int u8(String what) {
        need(1, what);
        return buffer.get() & 0xff;
    }

    public int u16(String what) {
        need(2, what);
        return buffer.getShort() & 0xffff;
    }

    public int i32(String what) {
        need(4, what);
        return buffer.getInt();
    }

    public long i64(String what) {
        need(8, what);
        return buffer.getLong();
    }

    public ChunkId id(String what) {
        need(ChunkId.LENGTH_BYTES, what);
        return ChunkId.read(buffer);
    }

    public byte[] bytes(String what) {
        int length = i32(what + " length");
        if (length < 0) {
            throw new ProtocolException("negative length " + length + " for " + what);
        }
        need(length, what);
        byte[] value = new byte[length];
        buffer.get(value);
        return value;
    }

    public String string(String what) {
        need(2, what + " length");
        int length = buffer.getShort() & 0xffff;
        need(length, what);
        byte[] utf8 = new byte[length];
        buffer.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /**
     * A count of items that each take at least {@code minItemBytes}: refused when the message
     * cannot hold that many, so a forged count never makes the reader allocate.
     */
    public int count(String what, int minItemBytes) {
        int count = i32(what + " count");
        if (count < 0 || (long) count * minItemBytes > buffer.remaining()) {
            throw new ProtocolException("count " + count + " of " + what + " does not fit in the "
                    + buffer.remaining() + " bytes left");
        }
        return count;
    }

    public int remaining() {
        return buffer.remaining();
    }

    /** Fails when bytes are left over: a message longer than its fields is not accepted silently. */
    public void end(String what) {
        if (buffer.hasRemaining()) {
            throw new ProtocolException(what + " has " + buffer.remaining() + " unexpected trailing bytes");
        }
    }
}
