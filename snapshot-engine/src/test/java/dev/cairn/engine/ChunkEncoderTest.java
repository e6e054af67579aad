package dev.cairn.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkEncoderTest {

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    @Test
    void compressibleBytesAreStoredAsZstdAndDecodeBack() {
        byte[] page = new byte[4096];
        for (int i = 0; i < page.length; i++) {
            page[i] = (byte) (i % 7);
        }
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkData c = encoder.encode(page, 0, page.length);
            assertEquals(ChunkCodec.ZSTD, c.codec());
            assertTrue(c.storedLength() < 200, "stored " + c.storedLength());
            assertEquals(ChunkId.of(page), c.id());
            assertArrayEquals(page, bytes(c.rawBytes()));
            assertTrue(c.verify());
        }
    }

    @Test
    void incompressibleBytesStayRaw() {
        byte[] random = new byte[4096];
        new Random(1).nextBytes(random);
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkData c = encoder.encode(random, 0, random.length);
            assertEquals(ChunkCodec.RAW, c.codec());
            assertEquals(4096, c.storedLength());
            assertTrue(c.verify());
        }
    }

    @Test
    void anOffsetSliceIsEncodedAndOwnsItsBytes() {
        byte[] data = new byte[10_000];
        Arrays.fill(data, 100, 5000, (byte) 9);
        try (ChunkEncoder encoder = new ChunkEncoder(1)) {
            ChunkData c = encoder.encode(data, 100, 4900);
            Arrays.fill(data, (byte) 1);
            assertTrue(c.verify());
            assertEquals(4900, c.rawLength());
        }
    }

    @Test
    void corruptZstdBytesFailVerificationAndRawBytesSaysWhy() {
        byte[] page = new byte[4096];
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkData good = encoder.encode(page, 0, page.length);
            byte[] stored = bytes(good.bytes());
            byte[] garbage = stored.clone();
            garbage[garbage.length / 2] ^= 0x5a;
            garbage[0] ^= 1; // break the magic
            ChunkData bad = new ChunkData(good.id(), ChunkCodec.ZSTD, 4096, ByteBuffer.wrap(garbage));
            assertFalse(bad.verify());
            assertThrows(ChunkData.CorruptChunkException.class, bad::rawBytes);
            // The right frame claimed with a wrong raw length: too short and too long both fail.
            assertFalse(new ChunkData(good.id(), ChunkCodec.ZSTD, 4095, ByteBuffer.wrap(stored)).verify());
            assertFalse(new ChunkData(good.id(), ChunkCodec.ZSTD, 4097, ByteBuffer.wrap(stored)).verify());
            // A direct buffer decodes too (the server's frames may be off-heap).
            ByteBuffer direct = ByteBuffer.allocateDirect(stored.length).put(stored).flip();
            assertTrue(new ChunkData(good.id(), ChunkCodec.ZSTD, 4096, direct).verify());
        }
    }

    @Test
    void levelsOutsideZstdsRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ChunkEncoder(99));
    }

    @Test
    void aRawChunkIsCompressedWhenThatPaysAndAnEncodedOneIsLeftAlone() {
        byte[] page = new byte[4096];
        Arrays.fill(page, 2048, 4096, (byte) 5);
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkData raw = ChunkData.raw(page);
            ChunkData encoded = encoder.encode(raw);
            assertEquals(ChunkCodec.ZSTD, encoded.codec());
            assertEquals(raw.id(), encoded.id());
            assertArrayEquals(page, bytes(encoded.rawBytes()));
            assertSame(encoded, encoder.encode(encoded));
            // A view into a larger array (as a pack member is) is encoded from its own bytes only.
            byte[] wide = new byte[3 * 4096];
            System.arraycopy(page, 0, wide, 4096, 4096);
            ChunkData view = new ChunkData(raw.id(), ChunkCodec.RAW, 4096, ByteBuffer.wrap(wide, 4096, 4096).slice());
            assertTrue(encoder.encode(view).verify());
        }
    }
}
