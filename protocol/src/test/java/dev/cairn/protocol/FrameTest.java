package dev.cairn.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FrameTest {

    private static final int LIMIT = 1 << 20;

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static String text(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return new String(out, StandardCharsets.US_ASCII);
    }

    private static ByteBuffer validFrame() {
        return Frame.request(MessageType.PUT_CHUNKS, 42, bytes("header"), bytes("payload!")).encode(LIMIT);
    }

    @Test
    void aRequestRoundTripsWithItsHeaderAndPayload() {
        ByteBuffer header = bytes("the header");
        ByteBuffer payload = bytes("chunk bytes");
        Frame frame = Frame.request(MessageType.PUT_CHUNKS, 0x0102030405060708L, header, payload);
        ByteBuffer wire = frame.encode(LIMIT);
        assertEquals(Frame.LENGTH_FIELD_BYTES + frame.frameLength(), wire.remaining());
        assertEquals(frame.frameLength(), wire.getInt(0));

        Frame decoded = Frame.decode(wire, LIMIT);
        assertEquals(MessageType.PUT_CHUNKS, decoded.type());
        assertFalse(decoded.response());
        assertEquals(0x0102030405060708L, decoded.requestId());
        assertEquals("the header", text(decoded.header()));
        assertEquals("chunk bytes", text(decoded.payload()));
        assertEquals(frame, decoded);
        // Encoding read nothing from the caller's buffers, decoding nothing from the wire buffer.
        assertEquals(0, header.position());
        assertEquals(0, payload.position());
        assertEquals(0, wire.position());
    }

    @Test
    void aResponseRoundTripsWithTheResponseFlag() {
        Frame frame = Frame.response(MessageType.GET_CHUNKS, -1, bytes("h"), bytes("p"));
        Frame decoded = Frame.decode(frame.encode(LIMIT), LIMIT);
        assertTrue(decoded.response());
        assertEquals(MessageType.GET_CHUNKS, decoded.type());
        assertEquals(-1, decoded.requestId());
        assertEquals(frame, decoded);
    }

    @Test
    void anErrorResponseAndAnEmptyFrameRoundTrip() {
        Frame error = Frame.response(MessageType.ERROR, 7, new Messages.Error(ErrorCode.NOT_FOUND, "no image x").encode(), null);
        Frame decodedError = Frame.decode(error.encode(LIMIT), LIMIT);
        assertEquals(new Messages.Error(ErrorCode.NOT_FOUND, "no image x"), Messages.Error.decode(decodedError.header()));
        assertEquals(0, decodedError.payload().remaining());

        Frame empty = Frame.request(MessageType.CLUSTER_INFO, 1, null, null);
        assertEquals(Frame.FIXED_BYTES, empty.frameLength());
        assertEquals(empty, Frame.decode(empty.encode(LIMIT), LIMIT));
    }

    @Test
    void decodedHeaderAndPayloadAreViewsThatStayIntactWhenReadTwice() {
        Frame decoded = Frame.decode(validFrame(), LIMIT);
        assertEquals("header", text(decoded.header()));
        assertEquals("header", text(decoded.header()));
        assertEquals("payload!", text(decoded.payload()));
        assertEquals(0, decoded.header().position());
    }

    @Test
    void decodeReadsAFrameAtTheBuffersPosition() {
        ByteBuffer frame = validFrame();
        ByteBuffer shifted = ByteBuffer.allocate(3 + frame.remaining());
        shifted.put(new byte[] {9, 9, 9}).put(frame).flip().position(3);
        Frame decoded = Frame.decode(shifted, LIMIT);
        assertEquals("header", text(decoded.header()));
        assertEquals("payload!", text(decoded.payload()));
    }

    @Test
    void encodePrefixLeavesThePayloadOut() {
        Frame frame = Frame.request(MessageType.PUT_CHUNKS, 3, bytes("hh"), bytes("pppp"));
        ByteBuffer prefix = frame.encodePrefix(LIMIT);
        assertEquals(Frame.LENGTH_FIELD_BYTES + Frame.FIXED_BYTES + 2, prefix.remaining());
        assertEquals(Frame.FIXED_BYTES + 2 + 4, prefix.getInt(0), "the length field counts the payload");
    }

    @Test
    void everyTruncationOfAValidFrameIsAProtocolException() {
        ByteBuffer frame = validFrame();
        for (int length = 0; length < frame.remaining(); length++) {
            ByteBuffer prefix = frame.slice(0, length);
            ProtocolException e = assertThrows(ProtocolException.class, () -> Frame.decode(prefix, LIMIT),
                    "prefix of " + length + " bytes");
            assertTrue(e.getMessage().contains("truncated frame"), e.getMessage());
        }
    }

    @Test
    void aBodyShorterThanTheFixedFieldsIsAProtocolException() {
        for (int length = 0; length < Frame.FIXED_BYTES; length++) {
            ByteBuffer wire = ByteBuffer.allocate(4 + length).putInt(0, length);
            ProtocolException e = assertThrows(ProtocolException.class, () -> Frame.decode(wire, LIMIT), "body of " + length);
            assertTrue(e.getMessage().contains("shorter than its fixed fields"), e.getMessage());
        }
    }

    @Test
    void aDeclaredLengthOverTheLimitIsRefusedBeforeTheBodyArrives() {
        // Only the length field is here: the decoder must refuse on it alone, not wait for or read the body.
        ByteBuffer justTheLength = ByteBuffer.allocate(4).putInt(0, LIMIT + 1);
        ProtocolException e = assertThrows(ProtocolException.class, () -> Frame.decode(justTheLength, LIMIT));
        assertTrue(e.getMessage().contains("over the limit of " + LIMIT), e.getMessage());

        ByteBuffer negative = ByteBuffer.allocate(4).putInt(0, 0xffffffff);
        e = assertThrows(ProtocolException.class, () -> Frame.decode(negative, LIMIT));
        assertTrue(e.getMessage().contains("4294967295"), "the declared length is shown unsigned: " + e.getMessage());
    }

    @Test
    void decodeBodyRefusesABodyOverTheLimit() {
        ByteBuffer body = ByteBuffer.allocate(64);
        ProtocolException e = assertThrows(ProtocolException.class, () -> Frame.decodeBody(body, 63));
        assertTrue(e.getMessage().contains("exceeds the limit of 63"), e.getMessage());
    }

    @Test
    void aHeaderLengthLargerThanTheFrameIsRefused() {
        ByteBuffer frame = validFrame();
        int headerLengthAt = Frame.LENGTH_FIELD_BYTES + 1 + 8;
        int bodyLeft = frame.remaining() - headerLengthAt - 4;
        frame.putInt(headerLengthAt, bodyLeft + 1);
        ProtocolException e = assertThrows(ProtocolException.class, () -> Frame.decode(frame, LIMIT));
        assertTrue(e.getMessage().contains("header length " + (bodyLeft + 1)), e.getMessage());

        frame.putInt(headerLengthAt, -1);
        assertThrows(ProtocolException.class, () -> Frame.decode(frame, LIMIT));

        frame.putInt(headerLengthAt, bodyLeft);
        Frame allHeader = Frame.decode(frame, LIMIT);
        assertEquals("headerpayload!", text(allHeader.header()));
        assertEquals(0, allHeader.payload().remaining());
    }

    @Test
    void anUnknownTypeIsRefused() {
        for (int kind : new int[] {0, 100, 126, 0x80, 0x80 | 100, 0xfe}) {
            ByteBuffer frame = validFrame();
            frame.put(Frame.LENGTH_FIELD_BYTES, (byte) kind);
            ProtocolException e = assertThrows(ProtocolException.class, () -> Frame.decode(frame, LIMIT), "kind " + kind);
            assertTrue(e.getMessage().contains("unknown message type"), e.getMessage());
        }
    }

    @Test
    void anErrorFrameThatIsNotAResponseIsRefused() {
        ByteBuffer frame = validFrame();
        frame.put(Frame.LENGTH_FIELD_BYTES, (byte) MessageType.ERROR.code());
        ProtocolException e = assertThrows(ProtocolException.class, () -> Frame.decode(frame, LIMIT));
        assertTrue(e.getMessage().contains("ERROR frame must be a response"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Frame.request(MessageType.ERROR, 1, null, null));
    }

    @Test
    void encodeRefusesAFrameOverTheLimit() {
        Frame frame = Frame.request(MessageType.PUT_CHUNKS, 1, ByteBuffer.allocate(100), ByteBuffer.allocate(1000));
        int exact = frame.frameLength();
        assertEquals(Frame.LENGTH_FIELD_BYTES + Frame.FIXED_BYTES + 100, frame.encodePrefix(exact).remaining());
        ProtocolException e = assertThrows(ProtocolException.class, () -> frame.encodePrefix(exact - 1));
        assertTrue(e.getMessage().contains("frame of " + exact + " bytes exceeds the limit of " + (exact - 1)), e.getMessage());
        assertThrows(ProtocolException.class, () -> frame.encode(exact - 1));
    }

    @Test
    void aFrameAtExactlyTheLimitIsAccepted() {
        Frame frame = Frame.request(MessageType.PUT_CHUNKS, 1, ByteBuffer.allocate(10), ByteBuffer.allocate(20));
        int exact = frame.frameLength();
        assertEquals(frame, Frame.decode(frame.encode(exact), exact));
        assertThrows(ProtocolException.class, () -> Frame.decode(frame.encode(exact), exact - 1));
    }
}
