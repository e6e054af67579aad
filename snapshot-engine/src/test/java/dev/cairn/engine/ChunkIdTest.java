package dev.cairn.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ChunkIdTest {

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    @Test
    void ofIsTheSha256OfTheBytes() throws Exception {
        byte[] data = "a checkpoint page".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(sha256(data), ChunkId.of(data).toBytes());
        assertArrayEquals(sha256(new byte[0]), ChunkId.of(new byte[0]).toBytes());
        // The well-known digest of "abc" pins the algorithm, not just agreement with the JDK.
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                ChunkId.of("abc".getBytes(StandardCharsets.US_ASCII)).toHex());
    }

    @Test
    void ofARangeOrABufferHashesOnlyThoseBytesAndLeavesThePositionAlone() throws Exception {
        byte[] data = "xxabcyy".getBytes(StandardCharsets.US_ASCII);
        ChunkId abc = ChunkId.fromBytes(sha256("abc".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(abc, ChunkId.of(data, 2, 3));
        ByteBuffer buffer = ByteBuffer.wrap(data, 2, 3);
        assertEquals(abc, ChunkId.of(buffer));
        assertEquals(2, buffer.position());
        assertTrue(abc.matches(buffer));
        assertEquals(2, buffer.position());
        assertTrue(abc.matches(data, 2, 3));
    }

    @Test
    void hexRoundTrips() {
        ChunkId id = ChunkId.of(new byte[] {1, 2, 3});
        String hex = id.toHex();
        assertEquals(64, hex.length());
        assertEquals(id, ChunkId.fromHex(hex));
        assertEquals(id, ChunkId.fromHex(hex.toUpperCase()));
        assertEquals(hex.substring(0, 12), id.shortHex());
        assertEquals(hex, id.toString());
    }

    @Test
    void fromHexAndFromBytesRefuseTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> ChunkId.fromHex("abcd"));
        assertThrows(IllegalArgumentException.class, () -> ChunkId.fromHex("zz".repeat(32)));
        assertThrows(IllegalArgumentException.class, () -> ChunkId.fromBytes(new byte[31]));
    }

    @Test
    void fromBytesCopiesSoTheCallerCannotChangeTheId() {
        byte[] digest = new byte[32];
        ChunkId id = ChunkId.fromBytes(digest);
        digest[5] = 9;
        assertArrayEquals(new byte[32], id.toBytes());
        id.toBytes()[0] = 1;
        assertArrayEquals(new byte[32], id.toBytes());
    }

    @Test
    void writeThenReadGivesTheSameId() {
        ChunkId id = ChunkId.of(new byte[] {7});
        ByteBuffer b = ByteBuffer.allocate(40);
        b.put((byte) 0xee);
        id.write(b);
        b.flip().get();
        assertEquals(id, ChunkId.read(b));
        assertFalse(b.hasRemaining());
    }

    @Test
    void equalsHashCodeAndCompareToFollowTheBytes() {
        byte[] low = new byte[32];
        byte[] high = new byte[32];
        high[0] = (byte) 0x80; // unsigned order: 0x80 sorts after 0x00
        byte[] lateDiff = new byte[32];
        lateDiff[31] = 1; // same first four bytes, so the same hash, but not equal
        ChunkId a = ChunkId.fromBytes(low);
        ChunkId a2 = ChunkId.fromBytes(low.clone());
        ChunkId b = ChunkId.fromBytes(high);
        ChunkId c = ChunkId.fromBytes(lateDiff);
        assertEquals(a, a2);
        assertEquals(a.hashCode(), a2.hashCode());
        assertEquals(0, a.compareTo(a2));
        assertNotEquals(a, b);
        assertNotEquals(a, c);
        assertEquals(a.hashCode(), c.hashCode());
        assertTrue(a.compareTo(b) < 0);
        assertTrue(b.compareTo(a) > 0);
        assertTrue(a.compareTo(c) < 0);
        assertNotEquals(a, null);
        assertNotEquals(a, HexFormat.of().formatHex(low));
    }

    @Test
    void matchesIsFalseAfterAnyFlippedByte() {
        byte[] data = new byte[4096];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        ChunkId id = ChunkId.of(data);
        assertTrue(id.matches(ByteBuffer.wrap(data)));
        for (int i : new int[] {0, 1, 2047, 4095}) {
            byte[] flipped = data.clone();
            flipped[i] ^= 0x01;
            assertFalse(id.matches(ByteBuffer.wrap(flipped)), "flipped byte " + i);
            assertFalse(id.matches(flipped, 0, flipped.length), "flipped byte " + i);
        }
        assertFalse(id.matches(data, 0, data.length - 1));
    }

    @Test
    void rawChunkDataVerifiesOnlyItsOwnBytes() {
        ChunkData chunk = ChunkData.raw(new byte[] {1, 2, 3});
        assertTrue(chunk.verify());
        assertEquals(3, chunk.storedLength());
        ChunkData forged = new ChunkData(chunk.id(), ChunkCodec.RAW, 3, ByteBuffer.wrap(new byte[] {1, 2, 4}));
        assertFalse(forged.verify());
        assertThrows(IllegalArgumentException.class,
                () -> new ChunkData(chunk.id(), ChunkCodec.RAW, 4, ByteBuffer.wrap(new byte[] {1, 2, 3})));
    }
}
