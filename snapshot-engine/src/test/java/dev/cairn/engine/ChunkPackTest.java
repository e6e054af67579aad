package dev.cairn.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkPackTest {

    /** Pages alike enough that compressing them together pays more than one by one. */
    static List<ChunkData> similarPages(int count, long seed) {
        Random random = new Random(seed);
        byte[] base = new byte[4096];
        random.nextBytes(base);
        List<ChunkData> pages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] page = base.clone();
            for (int k = 0; k < 64; k++) {
                page[random.nextInt(page.length)] = (byte) random.nextInt();
            }
            pages.add(ChunkData.raw(page));
        }
        return pages;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    @Test
    void aPackDecodesToEachMemberAndIsSmallerThanItsMembersEncodedAlone() {
        List<ChunkData> pages = similarPages(16, 1);
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkPack pack = encoder.encodePack(pages);
            assertNotNull(pack);
            assertTrue(pack.verify());
            assertEquals(16 * 4096, pack.rawLength());
            byte[] decoded = pack.decode();
            int alone = 0;
            int shares = 0;
            for (int i = 0; i < pages.size(); i++) {
                ChunkData member = pack.member(i, decoded);
                assertEquals(pages.get(i).id(), member.id());
                assertEquals(ChunkCodec.RAW, member.codec());
                assertArrayEquals(bytes(pages.get(i).bytes()), bytes(member.bytes()));
                assertTrue(member.verify());
                byte[] raw = bytes(pages.get(i).bytes());
                alone += encoder.encode(raw, 0, raw.length).storedLength();
                shares += pack.storedShare(i);
            }
            assertEquals(pack.storedLength(), shares, "the members' shares add up to the frame");
            assertTrue(pack.storedLength() < alone / 4, "pack " + pack.storedLength() + " vs alone " + alone);
        }
    }

    @Test
    void aPackThatDoesNotPayIsNotMade() {
        List<ChunkData> random = new ArrayList<>();
        Random r = new Random(2);
        for (int i = 0; i < 4; i++) {
            byte[] page = new byte[4096];
            r.nextBytes(page);
            random.add(ChunkData.raw(page));
        }
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            assertNull(encoder.encodePack(random));
        }
    }

    @Test
    void aTamperedFrameOrAWrongMemberIdFailsVerify() {
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkPack pack = encoder.encodePack(similarPages(4, 3));
            byte[] frame = bytes(pack.frame());
            frame[frame.length / 2] ^= 0x40;
            assertFalse(new ChunkPack(pack.members(), ByteBuffer.wrap(frame)).verify());
            assertThrows(ChunkData.CorruptChunkException.class,
                    () -> new ChunkPack(pack.members(), ByteBuffer.wrap(new byte[] {1, 2, 3})).decode());

            List<ChunkPack.Member> swapped = new ArrayList<>(pack.members());
            swapped.set(0, pack.members().get(1));
            swapped.set(1, pack.members().get(0));
            assertFalse(new ChunkPack(swapped, pack.frame()).verify(), "members in the wrong order");

            List<ChunkPack.Member> shorter = new ArrayList<>(pack.members());
            shorter.remove(3);
            assertFalse(new ChunkPack(shorter, pack.frame()).verify(), "a frame that decodes to more bytes");
        }
    }

    @Test
    void limitsAreEnforced() {
        ChunkId id = ChunkId.of(new byte[] {1});
        assertThrows(IllegalArgumentException.class, () -> new ChunkPack.Member(id, 0));
        assertThrows(IllegalArgumentException.class, () -> new ChunkPack.Member(id, ChunkPack.MAX_MEMBER_BYTES + 1));
        assertThrows(IllegalArgumentException.class, () -> new ChunkPack(List.of(), ByteBuffer.allocate(1)));
        List<ChunkPack.Member> tooMuch = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tooMuch.add(new ChunkPack.Member(id, ChunkPack.MAX_MEMBER_BYTES));
        }
        assertThrows(IllegalArgumentException.class, () -> new ChunkPack(tooMuch, ByteBuffer.allocate(1)));
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            ChunkData encoded = encoder.encode(new byte[4096], 0, 4096);
            assertThrows(IllegalArgumentException.class, () -> encoder.encodePack(List.of(encoded)));
        }
    }

    @Test
    void sharesSplitATotalExactly() {
        assertEquals(10, ChunkPack.share(10, 3, 0, 1) + ChunkPack.share(10, 3, 1, 1) + ChunkPack.share(10, 3, 2, 1));
        assertEquals(0, ChunkPack.share(0, 5, 2, 3));
    }
}
