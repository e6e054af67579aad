package dev.cairn.protocol;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One protocol frame. On the wire:
 *
 * <pre>
 *   int32  frameLength   bytes that follow this field, at most the receiver's frame limit
 *   uint8  kind          message type code, | 0x80 in a response
 *   int64  requestId     chosen by the requester, echoed in the response (pipelining)
 *   int32  headerLength  length of the header message
 *   bytes  header        a small message (see {@link Messages})
 *   bytes  payload       raw chunk bytes, the rest of the frame
 * </pre>
 *
 * All integers are big-endian. The header and payload buffers are views: their remaining bytes
 * are the content and nobody moves their positions.
 */
public record Frame(MessageType type, boolean response, long requestId, ByteBuffer header, ByteBuffer payload) {

    public static final int RESPONSE_FLAG = 0x80;
    /** Bytes of the frame-length field. */
    public static final int LENGTH_FIELD_BYTES = 4;
    /** Bytes between the length field and the header. */
    public static final int FIXED_BYTES = 1 + 8 + 4;

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    public Frame {
        Objects.requireNonNull(type, "type");
        header = header == null ? EMPTY : header;
        payload = payload == null ? EMPTY : payload;
        if (type == MessageType.ERROR && !response) {
            throw new IllegalArgumentException("an ERROR frame is always a response");
        }
    }

    public static Frame request(MessageType type, long requestId, ByteBuffer header, ByteBuffer payload) {
        return new Frame(type, false, requestId, header, payload);
    }

    public static Frame response(MessageType type, long requestId, ByteBuffer header, ByteBuffer payload) {
        return new Frame(type, true, requestId, header, payload);
    }

    /** Value of the frame-length field for this frame. */
    public int frameLength() {
        return FIXED_BYTES + header.remaining() + payload.remaining();
    }

    /**
     * Encodes everything before the payload: length field, kind, request id, header length and
     * header. The payload follows as its own buffer so that chunk bytes are never copied.
     */
    public ByteBuffer encodePrefix(int maxFrameBytes) {
        return prefix(type, response, requestId, header, payload.remaining(), maxFrameBytes);
    }

    /**
     * The prefix of a frame whose payload of {@code payloadBytes} bytes is sent separately (for
     * instance as several chunk buffers written back to back after it).
     */
    public static ByteBuffer prefix(MessageType type, boolean response, long requestId, ByteBuffer header,
                                    long payloadBytes, int maxFrameBytes) {
        long length = (long) FIXED_BYTES + header.remaining() + payloadBytes;
        if (length > maxFrameBytes) {
            throw new ProtocolException("frame of " + length + " bytes exceeds the limit of " + maxFrameBytes
                    + " bytes; send fewer chunks per frame");
        }
        ByteBuffer prefix = ByteBuffer.allocate(LENGTH_FIELD_BYTES + FIXED_BYTES + header.remaining());
        prefix.putInt((int) length);
        prefix.put((byte) (type.code() | (response ? RESPONSE_FLAG : 0)));
        prefix.putLong(requestId);
        prefix.putInt(header.remaining());
        prefix.put(header.duplicate());
        return prefix.flip();
    }

    /** The whole frame in one buffer (for tests and small frames). */
    public ByteBuffer encode(int maxFrameBytes) {
        ByteBuffer prefix = encodePrefix(maxFrameBytes);
        ByteBuffer all = ByteBuffer.allocate(prefix.remaining() + payload.remaining());
        return all.put(prefix).put(payload.duplicate()).flip();
    }

    /**
     * Decodes the bytes of one frame <em>after</em> its length field (the transport has already
     * split the stream at the length field and enforced the limit). The result's header and
     * payload are views into {@code body}.
     */
    public static Frame decodeBody(ByteBuffer body, int maxFrameBytes) {
        int length = body.remaining();
        if (length > maxFrameBytes) {
            throw new ProtocolException("frame of " + length + " bytes exceeds the limit of " + maxFrameBytes + " bytes");
        }
        if (length < FIXED_BYTES) {
            throw new ProtocolException("frame of " + length + " bytes is shorter than its fixed fields ("
                    + FIXED_BYTES + " bytes)");
        }
        ByteBuffer b = body.duplicate();
        int kind = b.get() & 0xff;
        boolean response = (kind & RESPONSE_FLAG) != 0;
        MessageType type = MessageType.fromCode(kind & ~RESPONSE_FLAG);
        long requestId = b.getLong();
        int headerLength = b.getInt();
        if (headerLength < 0 || headerLength > b.remaining()) {
            throw new ProtocolException("frame header length " + headerLength + " exceeds the " + b.remaining()
                    + " bytes left in the frame");
        }
        ByteBuffer header = b.slice(b.position(), headerLength);
        ByteBuffer payload = b.slice(b.position() + headerLength, b.remaining() - headerLength);
        if (type == MessageType.ERROR && !response) {
            throw new ProtocolException("an ERROR frame must be a response");
        }
        return new Frame(type, response, requestId, header, payload);
    }

    /**
     * The request id of a request frame (body as for {@link #decodeBody}) whose fixed fields are
     * whole but whose message type this build does not know, as a newer client may send; empty
     * for any other frame. Such a request can be answered with an ERROR naming the type, where a
     * frame without a trustworthy request id can only end the connection.
     */
    public static OptionalLong requestIdOfUnknownType(ByteBuffer body) {
        if (body.remaining() < FIXED_BYTES) {
            return OptionalLong.empty();
        }
        int kind = body.get(body.position()) & 0xff;
        if ((kind & RESPONSE_FLAG) != 0 || MessageType.known(kind) != null) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(body.getLong(body.position() + 1));
    }

    /**
     * Decodes one whole frame, length field included, from the start of {@code bytes}; refuses a
     * frame that is truncated or whose declared length exceeds the limit.
     */
    public static Frame decode(ByteBuffer bytes, int maxFrameBytes) {
        if (bytes.remaining() < LENGTH_FIELD_BYTES) {
            throw new ProtocolException("truncated frame: " + bytes.remaining() + " bytes, no room for the length field");
        }
        int declared = bytes.getInt(bytes.position());
        if (declared < 0 || declared > maxFrameBytes) {
            throw new ProtocolException("frame declares " + Integer.toUnsignedLong(declared)
                    + " bytes, over the limit of " + maxFrameBytes + " bytes");
        }
        if (bytes.remaining() - LENGTH_FIELD_BYTES < declared) {
            throw new ProtocolException("truncated frame: declares " + declared + " bytes, has "
                    + (bytes.remaining() - LENGTH_FIELD_BYTES));
        }
        return decodeBody(bytes.slice(bytes.position() + LENGTH_FIELD_BYTES, declared), maxFrameBytes);
    }
}
