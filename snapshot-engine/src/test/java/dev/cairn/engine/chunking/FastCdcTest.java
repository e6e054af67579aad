package dev.cairn.engine.chunking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FastCdcTest {

    private static final FastCdc CDC = ChunkingPolicy.DEFAULT.cdc();

    static List<Integer> lengths(FastCdc cdc, byte[] data) {
        List<Integer> out = new ArrayList<>();
        int offset = 0;
        while (offset < data.length) {
            int n = cdc.cut(data, offset, data.length - offset);
            out.add(n);
            offset += n;
        }
        return out;
    }

    static Set<ChunkId> ids(byte[] data) {
        Set<ChunkId> ids = new HashSet<>();
        int offset = 0;
        for (int n : lengths(CDC, data)) {
            ids.add(ChunkId.of(data, offset, n));
            offset += n;
        }
        return ids;
    }

    static byte[] random(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void chunksRespectMinAndMaxAndAverageNearTheTarget() {
        byte[] data = random(1, 32 * 1024 * 1024);
        List<Integer> lengths = lengths(CDC, data);
        for (int i = 0; i < lengths.size() - 1; i++) {
            int n = lengths.get(i);
            assertTrue(n >= CDC.minBytes() && n <= CDC.maxBytes(), "chunk " + i + " of " + n + " bytes");
        }
        double avg = data.length / (double) lengths.size();
        assertTrue(avg > 48 * 1024 && avg < 96 * 1024, "average chunk " + avg);
    }

    @Test
    void boundariesAreTheSameOnEveryRun() {
        byte[] data = random(2, 4 * 1024 * 1024);
        assertEquals(lengths(CDC, data), lengths(new FastCdc(16 * 1024, 64 * 1024, 256 * 1024), data.clone()));
        // Pinned: the gear table and masks are part of the format; these lengths must never change.
        assertEquals(List.of(74762, 76625, 65684, 81719), lengths(CDC, data).subList(0, 4));
    }

    @Test
    void aByteInsertedEarlyLeavesMostChunksUnchanged() {
        long seed = new Random().nextLong();
        System.out.println("FastCdcTest seed " + seed);
        Random random = new Random(seed);
        byte[] data = new byte[16 * 1024 * 1024];
        random.nextBytes(data);
        int at = 1000 + random.nextInt(100_000);
        byte[] edited = new byte[data.length + 1];
        System.arraycopy(data, 0, edited, 0, at);
        edited[at] = (byte) random.nextInt();
        System.arraycopy(data, at, edited, at + 1, data.length - at);

        Set<ChunkId> before = ids(data);
        Set<ChunkId> after = ids(edited);
        Set<ChunkId> shared = new HashSet<>(after);
        shared.retainAll(before);
        assertTrue(shared.size() >= before.size() - 3, "seed " + seed + ": only " + shared.size() + " of "
                + before.size() + " chunks survive an inserted byte");
    }

    @Test
    void aByteInsertedAtTheVeryStartKeepsTheLaterChunks() {
        // With fixed blocks this insert would shift every block; FastCDC re-finds its boundaries.
        byte[] data = random(3, 4 * 1024 * 1024);
        byte[] edited = new byte[data.length + 1];
        System.arraycopy(data, 0, edited, 1, data.length);
        Set<ChunkId> shared = new HashSet<>(ids(edited));
        shared.retainAll(ids(data));
        assertTrue(shared.size() > 0.9 * ids(data).size(), "shared " + shared.size());
    }

    @Test
    void badSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new FastCdc(16, 1000, 4096));
        assertThrows(IllegalArgumentException.class, () -> new FastCdc(64 * 1024, 64 * 1024, 256 * 1024));
        assertThrows(IllegalArgumentException.class, () -> new FastCdc(1024, 64 * 1024, 64 * 1024 * 1024));
    }
}
