package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.image.ImageBuilder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PageServerDumpTest {

    private final ByteArrayOutputStream answers = new ByteArrayOutputStream();

    private PageServerDump dump(byte[] stream) {
        return new PageServerDump(new ByteArrayInputStream(stream), answers, PageServerLimits.DEFAULT);
    }

    /** Reads every entry as the builder would: each file to its end before the next. */
    private static Map<String, byte[]> readAll(PageServerDump dump) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (ImageBuilder.StreamedEntry e = dump.next(); e != null; e = dump.next()) {
            assertEquals(0600, e.mode());
            try (var in = e.data()) {
                files.put(e.path(), in.readAllBytes());
            }
        }
        return files;
    }

    private static byte[] pages(int... fills) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int fill : fills) {
            out.writeBytes(CriuWire.page(fill));
        }
        return out.toByteArray();
    }

    @Test
    void aDumpBecomesThePagesAndPagemapFilesCriusOwnServerWrites() throws Exception {
        byte[] stream = new CriuWire()
                .open2(42)
                .present(42, 0x40_0000, 3, 1)
                .lazy(42, 0x50_0000, 100)
                .raw(CriuWire.header((CriuWire.PE_LAZY | CriuWire.PE_PRESENT) << 16 | CriuWire.ADD_F, 2, 0x60_0000, CriuWire.task(42)))
                .raw(CriuWire.page(7)).raw(CriuWire.page(8))
                .hole(42, 0x70_0000, 5)
                .open2(43)
                .present(43, 0x1000, 1, 20)
                .close()
                .bytes();
        PageServerDump dump = dump(stream);

        Map<String, byte[]> files = readAll(dump);

        assertEquals(java.util.List.of("pages-65537.img", "pagemap-42.img", "pages-65538.img", "pagemap-43.img"),
                java.util.List.copyOf(files.keySet()));
        assertArrayEquals(pages(1, 2, 3, 7, 8), files.get("pages-65537.img"));
        assertArrayEquals(CriuWire.pagemapImage(65537,
                new long[] {0x40_0000, 3, CriuWire.PE_PRESENT},
                new long[] {0x50_0000, 100, CriuWire.PE_LAZY},
                new long[] {0x60_0000, 2, CriuWire.PE_LAZY | CriuWire.PE_PRESENT},
                new long[] {0x70_0000, 5, CriuWire.PE_PARENT}), files.get("pagemap-42.img"));
        assertArrayEquals(pages(20), files.get("pages-65538.img"));
        assertArrayEquals(CriuWire.pagemapImage(65538, new long[] {0x1000, 1, CriuWire.PE_PRESENT}), files.get("pagemap-43.img"));
        assertTrue(dump.closed());
        // two OPEN2 answers (no parent), then the close's status 0
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0}, answers.toByteArray());
    }

    /**
     * The first bytes real criu 4.1.1 sent in CriuPageServerIT, spelled out from CRIU's {@code struct
     * page_server_iov} {u32 cmd; u32 nr_pages; u64 vaddr; u64 dst_id}: 24 bytes a header, no padding.
     * Read as 32-byte headers, the OPEN2 was never answered and criu and Cairn waited on each other.
     */
    @Test
    void theHeadersRealCriuSendsAre24BytesWithA32BitPageCount() throws Exception {
        byte[] stream = concat(
                // PS_IOV_OPEN2 for task 74: cmd 4, nr_pages 0, vaddr 0, dst_id 74 << 8 | 1
                le(4, 4), le(0, 4), le(0, 8), le(74L << 8 | 1, 8),
                // PS_IOV_ADD_F with PE_PRESENT (4 << 16), 2 pages at 0x55b151312000, then the pages
                le(4 << 16 | 6, 4), le(2, 4), le(0x55b1_5131_2000L, 8), le(74L << 8 | 1, 8),
                CriuWire.page(1), CriuWire.page(2),
                // PS_IOV_FLUSH (the close)
                le(0x1023, 4), le(0, 4), le(0, 8), le(0, 8));
        assertEquals(24 + 24 + 2 * 4096 + 24, stream.length);

        Map<String, byte[]> files = readAll(dump(stream));

        assertArrayEquals(pages(1, 2), files.get("pages-65537.img"));
        assertArrayEquals(CriuWire.pagemapImage(65537, new long[] {0x55b1_5131_2000L, 2, CriuWire.PE_PRESENT}),
                files.get("pagemap-74.img"));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0}, answers.toByteArray());
    }

    /**
     * The pagemap CRIU 4.1.1's own page server wrote for the same two entries (recorded in the
     * container of CriuPageServerIT): vaddr, compat_nr_pages holding the real count, flags, and no
     * field 5. Given 0 in compat_nr_pages and the count in field 5, criu restore 4.1.1 failed with
     * "vdso: ELF header magic mismatch": it did not find the pages where the pagemap said.
     */
    @Test
    void thePagemapIsByteForByteWhatCriusOwnServerWrites() throws Exception {
        byte[] stream = concat(
                le(4, 4), le(0, 4), le(0, 8), le(840L << 8 | 1, 8),
                le(4 << 16 | 6, 4), le(1, 4), le(0x55b3_8e82_7000L, 8), le(840L << 8 | 1, 8), CriuWire.page(1),
                le(4 << 16 | 6, 4), le(2, 4), le(0x55b3_8e82_f000L, 8), le(840L << 8 | 1, 8), CriuWire.page(2),
                CriuWire.page(3),
                le(0x1023, 4), le(0, 4), le(0, 8), le(0, 8));

        Map<String, byte[]> files = readAll(dump(stream));

        // as recorded, except the head's pages_id: 65537 (81 80 04) here, 65538 there
        int[] criu = {0x19, 0x43, 0x56, 0x54, 0x25, 0x40, 0x08, 0x56, 0x04, 0x00, 0x00, 0x00, 0x08, 0x81, 0x80, 0x04,
            0x0c, 0x00, 0x00, 0x00, 0x08, 0x80, 0xe0, 0x89, 0xf4, 0xb8, 0xb6, 0x15, 0x10, 0x01, 0x20, 0x04,
            0x0c, 0x00, 0x00, 0x00, 0x08, 0x80, 0xe0, 0x8b, 0xf4, 0xb8, 0xb6, 0x15, 0x10, 0x02, 0x20, 0x04};
        byte[] expected = new byte[criu.length];
        for (int i = 0; i < criu.length; i++) {
            expected[i] = (byte) criu[i];
        }
        assertArrayEquals(expected, files.get("pagemap-840.img"));
    }

    private static byte[] le(long value, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void aPagemapWithNoPresentPagesStillHasItsEmptyPagesFile() throws Exception {
        Map<String, byte[]> files = readAll(dump(new CriuWire().open2(9).lazy(9, 0x1000, 4).close().bytes()));

        assertEquals(0, files.get("pages-65537.img").length);
        assertArrayEquals(CriuWire.pagemapImage(65537, new long[] {0x1000, 4, CriuWire.PE_LAZY}), files.get("pagemap-9.img"));
    }

    @Test
    void aConnectionThatEndsBeforeCloseFails() {
        byte[] stream = new CriuWire().open2(42).present(42, 0x1000, 2, 1).bytes();

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, () -> readAll(dump(stream)));

        assertTrue(e.getMessage().contains("the connection ended before criu's PS_IOV_CLOSE"), e.getMessage());
    }

    @Test
    void aStreamCutInsideAPageFails() {
        byte[] whole = new CriuWire().open2(42).present(42, 0x1000, 2, 1).close().bytes();
        byte[] cut = Arrays.copyOf(whole, 48 + 4096 + 10);

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, () -> readAll(dump(cut)));

        assertTrue(e.getMessage().contains("ended 10 bytes into page 2 of the 2 pages"), e.getMessage());
    }

    @Test
    void anEntryForAnotherPagemapThanTheOpenOneFails() {
        byte[] stream = new CriuWire().open2(42).present(43, 0x1000, 1, 1).close().bytes();

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, () -> readAll(dump(stream)));

        assertTrue(e.getMessage().contains("to pagemap-43.img while pagemap-42.img is open"), e.getMessage());
    }

    @Test
    void pagesBeforeAnyOpenFail() {
        PageServerProtocolException e = assertThrows(PageServerProtocolException.class,
                () -> readAll(dump(new CriuWire().present(42, 0x1000, 1, 1).close().bytes())));

        assertTrue(e.getMessage().contains("arrived before any PS_IOV_OPEN2"), e.getMessage());
    }

    @Test
    void theSamePagemapOpenedTwiceFails() {
        PageServerProtocolException e = assertThrows(PageServerProtocolException.class,
                () -> readAll(dump(new CriuWire().open2(42).open2(42).close().bytes())));

        assertTrue(e.getMessage().contains("opened pagemap-42.img twice"), e.getMessage());
    }

    @Test
    void aPagemapOverItsEntryLimitFails() {
        CriuWire wire = new CriuWire().open2(1);
        for (int i = 0; i < 3; i++) {
            wire.lazy(1, 0x1000L * (i + 1), 1);
        }
        PageServerDump dump = new PageServerDump(new ByteArrayInputStream(wire.close().bytes()), answers,
                new PageServerLimits(16, 2, java.time.Duration.ofSeconds(1)));

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, () -> readAll(dump));

        assertTrue(e.getMessage().contains("more than 2 entries"), e.getMessage());
    }

    @Test
    void anEmptyDumpIsJustItsClose() throws Exception {
        PageServerDump dump = dump(new CriuWire().close().bytes());

        assertNull(dump.next());
        assertArrayEquals(new byte[] {0, 0, 0, 0}, answers.toByteArray());
    }
}
