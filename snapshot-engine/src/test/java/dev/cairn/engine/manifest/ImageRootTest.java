package dev.cairn.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ImageRootTest {

    private static final ImageRoot ROOT = new ImageRoot(ChunkId.of(new byte[] {1}), 5L << 40, 3L << 40, 2_000_000, 300_000_000L,
            1_700_000_000_000L);

    @Test
    void rootRoundTrips() {
        assertEquals(ROOT, ImageRoot.decode(ByteBuffer.wrap(ROOT.encode())));
    }

    @Test
    void theEncodingHasAFixedSmallLengthWhateverTheImage() {
        ImageRoot tiny = new ImageRoot(ChunkId.of(new byte[0]), 0, 0, 0, 0, 0);
        ImageRoot huge = new ImageRoot(ChunkId.of(new byte[] {2}), Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE,
                Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(ImageRoot.ENCODED_LENGTH, tiny.encode().length);
        assertEquals(ImageRoot.ENCODED_LENGTH, huge.encode().length);
        assertEquals(ImageRoot.ENCODED_LENGTH, ROOT.encode().length);
        assertTrue(ImageRoot.ENCODED_LENGTH < 128, "length " + ImageRoot.ENCODED_LENGTH);
        assertEquals(huge, ImageRoot.decode(ByteBuffer.wrap(huge.encode())));
    }

    @Test
    void anUnknownVersionIsRefused() {
        byte[] b = ROOT.encode();
        b[0] = 2;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageRoot.decode(ByteBuffer.wrap(b)));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void everyTruncationIsRefused() {
        byte[] b = ROOT.encode();
        for (int length = 0; length < b.length; length++) {
            ByteBuffer prefix = ByteBuffer.wrap(Arrays.copyOf(b, length));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageRoot.decode(prefix),
                    "prefix of " + length);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void negativeSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ImageRoot(ChunkId.of(new byte[0]), -1, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new ImageRoot(null, 0, 0, 0, 0, 0));
    }
}
