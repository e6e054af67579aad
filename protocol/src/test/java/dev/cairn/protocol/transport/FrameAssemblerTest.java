package dev.cairn.protocol.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Frames come out whole and exact however the stream is cut into reads. */
class FrameAssemblerTest {

    private static byte[] stream(List<byte[]> bodies) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] body : bodies) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    private static List<byte[]> bodies() {
        Random random = new Random(3);
        List<byte[]> bodies = new ArrayList<>();
        for (int size : new int[] {0, 1, 3, 4, 5, 300, 70_000, 0, 2}) {
            byte[] body = new byte[size];
            random.nextBytes(body);
            bodies.add(body);
        }
        return bodies;
    }

    private static List<byte[]> feed(byte[] stream, int[] cuts) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameAssembler(1 << 20));
        int from = 0;
        for (int cut : cuts) {
            channel.writeInbound(Unpooled.wrappedBuffer(stream, from, cut - from));
            from = cut;
        }
        channel.writeInbound(Unpooled.wrappedBuffer(stream, from, stream.length - from));
        List<byte[]> frames = new ArrayList<>();
        for (byte[] f; (f = channel.readInbound()) != null; ) {
            frames.add(f);
        }
        assertFalse(channel.finish(), "nothing left over");
        return frames;
    }

    @Test
    void everyWayOfCuttingTheStreamGivesTheSameFrames() {
        List<byte[]> bodies = bodies();
        byte[] stream = stream(bodies);
        Random random = new Random(4);
        List<int[]> cuttings = new ArrayList<>();
        cuttings.add(new int[0]);
        int[] everyByte = new int[stream.length - 1];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = i + 1;
        }
        cuttings.add(everyByte);
        for (int k = 0; k < 50; k++) {
            int[] cuts = random.ints(random.nextInt(20), 1, stream.length).sorted().distinct().toArray();
            cuttings.add(cuts);
        }
        for (int[] cuts : cuttings) {
            List<byte[]> frames = feed(stream, cuts);
            assertEquals(bodies.size(), frames.size());
            for (int i = 0; i < bodies.size(); i++) {
                assertArrayEquals(bodies.get(i), frames.get(i), "frame " + i);
            }
        }
    }

    @Test
    void aFrameOverTheLimitFailsTheChannel() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameAssembler(1024));
        byte[] tooLong = ByteBuffer.allocate(4).putInt(1021).array();
        assertThrows(TooLongFrameException.class, () -> channel.writeInbound(Unpooled.wrappedBuffer(tooLong)));
        EmbeddedChannel negative = new EmbeddedChannel(new FrameAssembler(1024));
        assertThrows(TooLongFrameException.class,
                () -> negative.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x80, 0, 0, 0})));
        EmbeddedChannel fits = new EmbeddedChannel(new FrameAssembler(1024));
        fits.writeInbound(Unpooled.wrappedBuffer(stream(List.of(new byte[1020]))));
        assertEquals(1020, ((byte[]) fits.readInbound()).length);
        assertNull(fits.readInbound());
    }
}
