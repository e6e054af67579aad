package dev.cairn.client.criu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Reads a page-server stream message by message and, after a message that carries pages, its
 * pages one 4 KiB page at a time, so a caller never holds more than one page of a dump.
 */
public final class PageServerReader {

    private final InputStream in;
    private final PageServerCodec codec;
    private final byte[] header = new byte[PageServerCodec.HEADER_BYTES];
    private long offset;
    private PageServerMessage current;
    private long pagesRead;

    public PageServerReader(InputStream in, PageServerLimits limits) {
        this.in = in;
        this.codec = new PageServerCodec(limits);
    }

    /**
     * The next message, or null when the stream ends cleanly between two messages. Whether that
     * end was expected (after {@code PS_IOV_CLOSE}) is the caller's question.
     *
     * @throws IllegalStateException when pages of the previous message are still unread
     * @throws PageServerProtocolException when the stream ends inside a header or the header is bad
     */
    public PageServerMessage next() throws IOException {
        if (pagesLeft() != 0) {
            throw new IllegalStateException(pagesLeft() + " pages of " + current.describe() + " are still unread");
        }
        long start = offset;
        int got = readUpTo(header, 0, header.length);
        if (got == 0) {
            current = null;
            return null;
        }
        if (got < header.length) {
            throw new PageServerProtocolException(start, "the stream ended " + got + " bytes into a "
                    + PageServerCodec.HEADER_BYTES + "-byte message header: criu stopped midway");
        }
        current = codec.decode(ByteBuffer.wrap(header), start);
        pagesRead = 0;
        return current;
    }

    /** Pages of the current message not yet read. */
    public long pagesLeft() {
        return current != null && current.carriesPages() ? current.nrPages() - pagesRead : 0;
    }

    /**
     * Reads the next page of the current message into {@code page} (4096 bytes).
     *
     * @throws PageServerProtocolException when the stream ends inside the page
     */
    public void readPage(byte[] page) throws IOException {
        if (page.length != PageServerCodec.PAGE_BYTES) {
            throw new IllegalArgumentException("a page is " + PageServerCodec.PAGE_BYTES + " bytes, not " + page.length);
        }
        if (pagesLeft() == 0) {
            throw new IllegalStateException("no page is left to read after "
                    + (current == null ? "the start of the stream" : current.describe()));
        }
        long start = offset;
        int got = readUpTo(page, 0, page.length);
        if (got < page.length) {
            throw new PageServerProtocolException(start, "the stream ended " + got + " bytes into page "
                    + (pagesRead + 1) + " of the " + Long.toUnsignedString(current.nrPages()) + " pages of "
                    + current.describe() + ": criu stopped midway");
        }
        pagesRead++;
    }

    /** Bytes read from the stream so far. */
    public long offset() {
        return offset;
    }

    private int readUpTo(byte[] buf, int from, int length) throws IOException {
        int done = 0;
        while (done < length) {
            int n;
            try {
                n = in.read(buf, from + done, length - done);
            } catch (java.net.SocketTimeoutException e) {
                throw new PageServerProtocolException(offset, "criu sent nothing for longer than the page server's "
                        + "idle timeout (page-server idleTimeout); the dump is given up");
            }
            if (n < 0) {
                break;
            }
            done += n;
            offset += n;
        }
        return done;
    }
}
