package dev.cairn.client.criu;

import dev.cairn.engine.image.ImageBuilder;
import dev.cairn.engine.manifest.FileType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashSet;
import java.util.Set;

/**
 * One dump's page-server connection, read as the image entries CRIU's own page server would have
 * written: for each pagemap criu opens, {@code pages-N.img} (its present pages, streamed page by
 * page as they arrive, never held whole) and then {@code pagemap-ID.img} (kept in memory until
 * its pages end). It answers criu as CRIU's server does, and ends after criu's {@code PS_IOV_CLOSE};
 * a connection that ends sooner, or sends anything CRIU would not, fails with a
 * {@link PageServerProtocolException}.
 */
public final class PageServerDump implements ImageBuilder.EntrySource {

    /** CRIU's page server numbers its pages images from here (docs/criu.md). */
    static final long FIRST_PAGES_ID = 0x10001;
    /** The mode CRIU creates image files with. */
    static final int IMAGE_MODE = 0600;

    private final PageServerReader reader;
    private final OutputStream answers;
    private final PageServerLimits limits;
    private final Set<PagemapTarget> opened = new HashSet<>();
    private long nextPagesId = FIRST_PAGES_ID;
    private PageServerMessage pending;
    private boolean hasPending;
    private PagemapTarget target;
    private PagemapImage pagemap;
    private Pages pages;
    private boolean closed;

    public PageServerDump(InputStream in, OutputStream answers, PageServerLimits limits) {
        this.reader = new PageServerReader(in, limits);
        this.answers = answers;
        this.limits = limits;
    }

    /** True once criu has sent {@code PS_IOV_CLOSE} and has been answered. */
    public boolean closed() {
        return closed;
    }

    @Override
    public ImageBuilder.StreamedEntry next() throws IOException {
        if (pages != null) {
            if (!pages.ended) {
                throw new IllegalStateException("the pages of " + target + " were not read to their end");
            }
            ImageBuilder.StreamedEntry map = new ImageBuilder.StreamedEntry(target.pagemapFileName(), FileType.REGULAR,
                    IMAGE_MODE, "", new ByteArrayInputStream(pagemap.bytes()));
            pages = null;
            pagemap = null;
            target = null;
            return map;
        }
        if (closed) {
            return null;
        }
        while (true) {
            PageServerMessage m = nextMessage();
            if (m == null) {
                throw new PageServerProtocolException(reader.offset(), "the connection ended before criu's "
                        + "PS_IOV_CLOSE: the dump did not finish (see criu's log), and nothing was stored");
            }
            switch (m.command()) {
                case OPEN, OPEN2 -> {
                    return open(m);
                }
                case PARENT -> answer(PageServerCodec.parentAnswer(false));
                case CLOSE, FORCE_CLOSE -> {
                    answer(PageServerCodec.closeAnswer(0));
                    closed = true;
                    return null;
                }
                case GET -> throw new PageServerProtocolException(reader.offset(), "a dump's connection asked for "
                        + "pages (PS_IOV_GET); point criu lazy-pages at a restore's page server instead");
                default -> throw new PageServerProtocolException(reader.offset(), m.describe()
                        + " arrived before any PS_IOV_OPEN2; CRIU opens a pagemap before its pages (since 2013), "
                        + "so the stream is corrupt or from a CRIU too old for Cairn");
            }
        }
    }

    private ImageBuilder.StreamedEntry open(PageServerMessage m) throws IOException {
        PagemapTarget t = m.target();
        if (!opened.add(t)) {
            throw new PageServerProtocolException(reader.offset(), "criu opened " + t + " twice in one dump");
        }
        if (m.command() == PageServerCommand.OPEN2) {
            answer(PageServerCodec.openAnswer(false)); // Cairn holds no parent image for it (yet)
        }
        long pagesId = nextPagesId++;
        target = t;
        pagemap = new PagemapImage(pagesId, limits.maxPagemapEntries());
        pages = new Pages();
        return new ImageBuilder.StreamedEntry("pages-" + pagesId + ".img", FileType.REGULAR, IMAGE_MODE, "", pages);
    }

    private PageServerMessage nextMessage() throws IOException {
        if (hasPending) {
            hasPending = false;
            return pending;
        }
        return reader.next();
    }

    private void answer(byte[] bytes) throws IOException {
        answers.write(bytes);
        answers.flush();
    }

    /** The present pages of the open pagemap, read from the connection as the builder asks for them. */
    private final class Pages extends InputStream {
        private final byte[] page = new byte[PageServerCodec.PAGE_BYTES];
        private int position = page.length;
        private boolean ended;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (position == page.length) {
                if (!fill()) {
                    return -1;
                }
            }
            int n = Math.min(len, page.length - position);
            System.arraycopy(page, position, b, off, n);
            position += n;
            return n;
        }

        /** Reads the next page, or takes in entries until one brings pages; false when the pagemap ends. */
        private boolean fill() throws IOException {
            if (reader.pagesLeft() > 0) {
                reader.readPage(page);
                position = 0;
                return true;
            }
            if (ended) {
                return false;
            }
            PageServerMessage m = reader.next();
            if (m != null && m.command() == PageServerCommand.PARENT) {
                answer(PageServerCodec.parentAnswer(false));
            } else if (m != null && m.target() != null && m.command().describesPages()) {
                addEntry(m);
            } else {
                pending = m; // the next pagemap, the close, or the end: it ends this pagemap
                hasPending = true;
                ended = true;
            }
            return true;
        }

        private void addEntry(PageServerMessage m) throws PageServerProtocolException {
            if (!m.target().equals(target)) {
                throw new PageServerProtocolException(reader.offset(), m.describe() + " while " + target
                        + " is open; CRIU writes one pagemap at a time");
            }
            if (!pagemap.add(m.vaddr(), m.nrPages(), m.pageFlags())) {
                throw new PageServerProtocolException(reader.offset(), target + " has more than "
                        + limits.maxPagemapEntries() + " entries (page-server maxPagemapEntries)");
            }
        }
    }
}
