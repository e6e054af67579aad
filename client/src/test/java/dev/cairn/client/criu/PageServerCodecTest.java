package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class PageServerCodecTest {

    private final PageServerCodec codec = new PageServerCodec(PageServerLimits.DEFAULT.withMaxPagesPerMessage(1024));

    private PageServerMessage decode(byte[] header) throws PageServerProtocolException {
        return codec.decode(ByteBuffer.wrap(header), 0);
    }

    private PageServerProtocolException refused(byte[] header) {
        return assertThrows(PageServerProtocolException.class, () -> codec.decode(ByteBuffer.wrap(header), 96));
    }

    @Test
    void anAddFHeaderIsReadFieldByFieldAsCriuLaysItOut() throws Exception {
        byte[] wire = CriuWire.header(CriuWire.PE_PRESENT << 16 | CriuWire.ADD_F, 3, 0x7f12_3456_7000L, CriuWire.task(4242));

        PageServerMessage m = decode(wire);

        assertEquals(PageServerCommand.ADD_F, m.command());
        assertEquals(PageFlags.PRESENT, m.pageFlags());
        assertEquals(3, m.nrPages());
        assertEquals(0x7f12_3456_7000L, m.vaddr());
        assertEquals(new PagemapTarget(PagemapTarget.Kind.TASK, 4242), m.target());
        assertEquals("pagemap-4242.img", m.target().pagemapFileName());
        assertTrue(m.carriesPages());
    }

    @Test
    void encodingWritesCriusLayout() {
        PageServerMessage m = PageServerMessage.addF(new PagemapTarget(PagemapTarget.Kind.TASK, 7), 0x1000, 2,
                PageFlags.LAZY | PageFlags.PRESENT);

        assertArrayEquals(CriuWire.header((PageFlags.LAZY | PageFlags.PRESENT) << 16 | CriuWire.ADD_F, 2, 0x1000, CriuWire.task(7)),
                PageServerCodec.encode(m));
    }

    @Test
    void holesAndLazyEntriesCarryNoPagesWhateverTheirLength() throws Exception {
        PageServerMessage hole = decode(CriuWire.header(CriuWire.HOLE, 1L << 30, 0x40_0000, CriuWire.task(1)));
        PageServerMessage lazy = decode(CriuWire.header(CriuWire.PE_LAZY << 16 | CriuWire.ADD_F, 1L << 30, 0x40_0000, CriuWire.task(1)));

        assertEquals(PageFlags.PARENT, hole.pageFlags());
        assertFalse(hole.carriesPages());
        assertEquals(PageFlags.LAZY, lazy.pageFlags());
        assertFalse(lazy.carriesPages(), "lazy pages are not sent at dump time; a count past the limit is fine");
    }

    @Test
    void theOldAddMeansPresentPages() throws Exception {
        PageServerMessage add = decode(CriuWire.header(CriuWire.ADD, 1, 0x1000, CriuWire.task(3)));

        assertEquals(PageFlags.PRESENT, add.pageFlags());
        assertTrue(add.carriesPages());
    }

    @Test
    void theCloseCodesAreTheOldFlushCodes() throws Exception {
        assertEquals(PageServerCommand.CLOSE, decode(CriuWire.header(0x1023, 0, 0, 0)).command());
        assertEquals(PageServerCommand.FORCE_CLOSE, decode(CriuWire.header(0x1024, 0, 0, 0)).command());
    }

    @Test
    void dstIdsOfOlderCriuVersionsNameTheSamePagemaps() {
        assertEquals(new PagemapTarget(PagemapTarget.Kind.TASK, 99), PagemapTarget.decode(99L << 8 | 11));
        assertEquals(new PagemapTarget(PagemapTarget.Kind.SHMEM, 5), PagemapTarget.decode(5L << 8 | 34));
        assertEquals("pagemap-shmem-5.img", PagemapTarget.decode(5L << 8 | 2).pagemapFileName());
        assertNull(PagemapTarget.decode(5L << 8 | 3));
        assertEquals(99L << 8 | 1, new PagemapTarget(PagemapTarget.Kind.TASK, 99).encode());
    }

    @Test
    void aGetNamesTheTaskByItsPlainPid() throws Exception {
        PageServerMessage get = decode(CriuWire.header(CriuWire.GET, 4, 0x2000, 4242));

        assertEquals(4242, get.dstId());
        assertNull(get.target());
        assertFalse(get.carriesPages());
    }

    @Test
    void theServersAnswersAreOneByteForOpenAndFourForCloseAndParent() {
        assertArrayEquals(new byte[] {0}, PageServerCodec.openAnswer(false));
        assertArrayEquals(new byte[] {1, 0, 0, 0}, PageServerCodec.parentAnswer(true));
        assertArrayEquals(new byte[] {0, 0, 0, 0}, PageServerCodec.closeAnswer(0));
    }

    @Test
    void anUnknownCommandIsRefusedWithWhereItWas() {
        PageServerProtocolException e = refused(CriuWire.header(0x99, 0, 0, 0));

        assertTrue(e.getMessage().startsWith("unknown page-server command word 0x99;"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(at byte 96 of the page-server stream)"), e.getMessage());
        assertEquals(96, e.streamOffset());
    }

    @Test
    void aBigEndianPeerIsToldSo() {
        PageServerProtocolException e = refused(CriuWire.header(Integer.reverseBytes(CriuWire.OPEN2), 0, 0, CriuWire.task(1)));

        assertTrue(e.getMessage().contains("big-endian"), e.getMessage());
    }

    @Test
    void flagsOnACommandOtherThanAddFAreRefused() {
        PageServerProtocolException e = refused(CriuWire.header(CriuWire.PE_PRESENT << 16 | CriuWire.OPEN2, 0, 0, CriuWire.task(1)));

        assertTrue(e.getMessage().contains("PS_IOV_OPEN2 carries flags 0x4"), e.getMessage());
    }

    @Test
    void pageFlagsCriuNeverSendsAreRefused() {
        assertTrue(refused(CriuWire.header(0x10 << 16 | CriuWire.ADD_F, 1, 0x1000, CriuWire.task(1)))
                .getMessage().contains("page flags 0x10"));
        assertTrue(refused(CriuWire.header((CriuWire.PE_PARENT | CriuWire.PE_PRESENT) << 16 | CriuWire.ADD_F, 1, 0x1000, CriuWire.task(1)))
                .getMessage().contains("page flags parent|present"));
        assertTrue(refused(CriuWire.header(CriuWire.ADD_F, 1, 0x1000, CriuWire.task(1)))
                .getMessage().contains("page flags none"));
    }

    @Test
    void anUnknownPagemapTypeIsRefused() {
        PageServerProtocolException e = refused(CriuWire.header(CriuWire.OPEN2, 0, 0, 7L << 8 | 9));

        assertTrue(e.getMessage().contains("names pagemap type 9 in dst_id 0x709"), e.getMessage());
    }

    @Test
    void rangesCriuNeverSendsAreRefused() {
        assertTrue(refused(CriuWire.header(CriuWire.HOLE, 0, 0x1000, CriuWire.task(1))).getMessage().contains("empty page range"));
        assertTrue(refused(CriuWire.header(CriuWire.HOLE, 1, 0x1001, CriuWire.task(1))).getMessage().contains("not 4 KiB aligned"));
        assertTrue(refused(CriuWire.header(CriuWire.HOLE, 2, -4096L, CriuWire.task(1))).getMessage().contains("past the end of the address space"));
        assertTrue(refused(CriuWire.header(CriuWire.HOLE, 0xffff_ffffL, -(1L << 40), CriuWire.task(1))).getMessage().contains("past the end of the address space"));
    }

    @Test
    void theLastPageOfTheAddressSpaceIsARange() throws Exception {
        assertEquals(1, decode(CriuWire.header(CriuWire.HOLE, 1, -4096L, CriuWire.task(1))).nrPages());
        // CRIU's page count is a u32: the largest it can send reads as 4,294,967,295, not as -1
        assertEquals(0xffff_ffffL, decode(CriuWire.header(CriuWire.HOLE, 0xffff_ffffL, 0, CriuWire.task(1))).nrPages());
    }

    @Test
    void aPageCountOverTheLimitIsRefusedBeforeAnyPageIsRead() {
        PageServerProtocolException add = refused(CriuWire.header(CriuWire.PE_PRESENT << 16 | CriuWire.ADD_F, 1025, 0x1000, CriuWire.task(1)));
        PageServerProtocolException get = refused(CriuWire.header(CriuWire.GET, 0x8000_0000L, 0x1000, 1));

        assertTrue(add.getMessage().contains("more pages than the limit of 1024 per message"), add.getMessage());
        assertTrue(get.getMessage().contains("more pages than the limit of 1024 per message"), get.getMessage());
    }

    @Test
    void aShortHeaderIsRefused() {
        PageServerProtocolException e = assertThrows(PageServerProtocolException.class,
                () -> codec.decode(ByteBuffer.wrap(new byte[23]), 0));

        assertTrue(e.getMessage().contains("needs 24 bytes, only 23 arrived"), e.getMessage());
    }
}
