package dev.cairn.protocol;

import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds a header message in a growing big-endian buffer. */
public final class WireWriter {

    private ByteBuffer buffer;

    public WireWriter(int initialCapacity) {
        buffer = ByteBuffer.allocate(Math.max(16, initialCapacity));
    }

    public WireWriter() {
        this(64);
    }

    private void ensure(int bytes) {
        if (buffer.remaining() < bytes) {
            int capacity = Math.max(buffer.capacity() * 2, buffer.position() + bytes);
            ByteBuffer bigger = ByteBuffer.allocate(capacity);
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
    }

    public WireWriter u8(int value) {
        ensure(1);
        buffer.put((byte) value);
        return this;
    }

    public WireWriter u16(int value) {
        ensure(2);
        buffer.putShort((short) value);
        return this;
    }

    public WireWriter i32(int value) {
        ensure(4);
        buffer.putInt(value);
        return this;
    }

    public WireWriter i64(long value) {
        ensure(8);
        buffer.putLong(value);
        return this;
    }

    public WireWriter id(ChunkId id) {
        ensure(ChunkId.LENGTH_BYTES);
        id.write(buffer);
        return this;
    }

    public WireWriter bytes(byte[] value) {
        i32(value.length);
        ensure(value.length);
        buffer.put(value);
        return this;
    }

    /** A UTF-8 string with a 16-bit length: header strings are names and messages, never data. */
    public WireWriter string(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0xffff) {
            throw new IllegalArgumentException("string of " + utf8.length + " bytes is too long for a header");
        }
        ensure(2 + utf8.length);
        buffer.putShort((short) utf8.length);
        buffer.put(utf8);
        return this;
    }

    /** The bytes written so far, ready to read. */
    public ByteBuffer toBuffer() {
        return buffer.duplicate().flip();
    }
}
