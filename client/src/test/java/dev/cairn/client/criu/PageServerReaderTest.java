package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageServerReaderTest {

    /** Hands out at most 7 bytes per read, as a socket may, so no read lines up with a message. */
    private static InputStream trickle(byte[] bytes) {
        return new FilterInputStream(new ByteArrayInputStream(bytes)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, 7));
            }
        };
    }

    private static PageServerReader reader(byte[] bytes) {
        return new PageServerReader(trickle(bytes), PageServerLimits.DEFAULT);
    }

    /** Reads a whole stream; returns each message's description and each page's first byte. */
    private static List<String> readAll(PageServerReader reader) throws IOException {
        List<String> seen = new ArrayList<>();
        byte[] page = new byte[4096];
        for (PageServerMessage m = reader.next(); m != null; m = reader.next()) {
            seen.add(m.describe());
            while (reader.pagesLeft() > 0) {
                reader.readPage(page);
                seen.add("page " + page[0] + (allEqual(page) ? "" : " torn"));
            }
        }
        return seen;
    }

    private static boolean allEqual(byte[] page) {
        byte[] same = new byte[page.length];
        Arrays.fill(same, page[0]);
        return Arrays.equals(page, same);
    }

    @Test
    void aDumpsConversationReadsAsMessagesAndPagesInOrder() throws Exception {
        byte[] stream = new CriuWire()
                .open2(42)
                .present(42, 0x40_0000, 3, 1)
                .lazy(42, 0x50_0000, 100)
                .hole(42, 0x60_0000, 2)
                .present(42, 0x70_0000, 1, 9)
                .open2(43)
                .present(43, 0x1000, 2, 20)
                .close()
                .bytes();
        PageServerReader reader = reader(stream);

        List<String> seen = readAll(reader);

        assertEquals(List.of(
                "PS_IOV_OPEN2 to pagemap-42.img",
                "PS_IOV_ADD_F present 3 pages at 0x400000 to pagemap-42.img", "page 1", "page 2", "page 3",
                "PS_IOV_ADD_F lazy 100 pages at 0x500000 to pagemap-42.img",
                "PS_IOV_HOLE 2 pages at 0x600000 to pagemap-42.img",
                "PS_IOV_ADD_F present 1 pages at 0x700000 to pagemap-42.img", "page 9",
                "PS_IOV_OPEN2 to pagemap-43.img",
                "PS_IOV_ADD_F present 2 pages at 0x1000 to pagemap-43.img", "page 20", "page 21",
                "PS_IOV_CLOSE"), seen);
        assertEquals(stream.length, reader.offset());
    }

    @Test
    void anEmptyStreamEndsCleanly() throws Exception {
        assertNull(reader(new byte[0]).next());
    }

    @Test
    void aStreamCutInsideAHeaderIsRefusedWithWhere() throws Exception {
        byte[] whole = new CriuWire().open2(42).present(42, 0x1000, 1, 5).bytes();
        byte[] cut = Arrays.copyOf(whole, 24 + 10);
        PageServerReader reader = reader(cut);
        reader.next();

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, reader::next);

        assertEquals(24, e.streamOffset());
        assertTrue(e.getMessage().contains("ended 10 bytes into a 24-byte message header"), e.getMessage());
    }

    @Test
    void aStreamCutInsideThePagesIsRefusedWithWhichPage() throws Exception {
        byte[] whole = new CriuWire().open2(42).present(42, 0x1000, 3, 5).close().bytes();
        byte[] cut = Arrays.copyOf(whole, 48 + 4096 + 100);
        PageServerReader reader = reader(cut);
        reader.next();
        reader.next();
        byte[] page = new byte[4096];
        reader.readPage(page);

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, () -> reader.readPage(page));

        assertTrue(e.getMessage().contains("ended 100 bytes into page 2 of the 3 pages of PS_IOV_ADD_F present 3 pages at 0x1000"),
                e.getMessage());
    }

    @Test
    void aCorruptHeaderAfterGoodPagesIsRefused() throws Exception {
        byte[] whole = new CriuWire().open2(42).present(42, 0x1000, 1, 5).close().bytes();
        whole[24 + 24 + 4096] = 0x77;  // the CLOSE's command word
        PageServerReader reader = reader(whole);

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, () -> readAll(reader));

        assertEquals(24 + 24 + 4096, e.streamOffset());
        assertTrue(e.getMessage().contains("unknown page-server command word"), e.getMessage());
    }

    @Test
    void pagesMustBeReadBeforeTheNextMessage() throws Exception {
        PageServerReader reader = reader(new CriuWire().open2(1).present(1, 0x1000, 2, 1).close().bytes());
        reader.next();
        reader.next();
        reader.readPage(new byte[4096]);

        IllegalStateException e = assertThrows(IllegalStateException.class, reader::next);

        assertTrue(e.getMessage().startsWith("1 pages of PS_IOV_ADD_F"), e.getMessage());
    }

    @Test
    void thePagesReadAreTheBytesSent() throws Exception {
        PageServerReader reader = reader(new CriuWire().open2(1).present(1, 0x1000, 1, 0x3c).bytes());
        reader.next();
        reader.next();
        byte[] page = new byte[4096];

        reader.readPage(page);

        assertArrayEquals(CriuWire.page(0x3c), page);
    }

    @Test
    void aSilentPeerIsGivenUpWithWhere() throws Exception {
        byte[] open = new CriuWire().open2(1).bytes();
        InputStream silentAfterOpen = new java.io.SequenceInputStream(new ByteArrayInputStream(open), new InputStream() {
            @Override
            public int read() throws IOException {
                throw new java.net.SocketTimeoutException("Read timed out");
            }
        });
        PageServerReader reader = new PageServerReader(silentAfterOpen, PageServerLimits.DEFAULT);
        reader.next();

        PageServerProtocolException e = assertThrows(PageServerProtocolException.class, reader::next);

        assertEquals(24, e.streamOffset());
        assertTrue(e.getMessage().startsWith("criu sent nothing for longer than the page server's idle timeout"), e.getMessage());
    }
}
