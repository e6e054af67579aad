package dev.cairn.client.criu;

import dev.cairn.client.CairnException;
import dev.cairn.engine.manifest.FileEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves {@code criu lazy-pages --page-server} from one stored image: each {@code PS_IOV_GET} is
 * answered with the pages read from that image's {@code pages-N.img} on demand, as CRIU's own page
 * server answers it from disk (docs/criu.md, Lazy restore). A request no present pagemap entry
 * holds is refused by closing the connection, as CRIU's server does.
 *
 * <p>Several conversations (one per restore) may be served at once, each on its own thread: the
 * parsed pagemaps are shared, the counters are totals over all of them.
 */
public final class LazyPageServer {

    /**
     * Pages read from the store and written per step of an answer: a {@code PS_IOV_GET} may ask for
     * up to {@link PageServerLimits#maxPagesPerMessage()} pages, and each conversation holds one
     * step's bytes at a time, so memory stays at 1 MiB per restore whatever lazy-pages asks.
     */
    static final int PAGES_PER_STEP = 256;

    private final StoredImage image;
    private final PageServerLimits limits;
    private final PrintStream log;
    /** The pagemap of each task asked for so far; empty when the image has none for that pid. */
    private final Map<Long, Optional<StoredPagemap>> pagemaps = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong pagesServed = new AtomicLong();

    /** A server of {@code image}'s pages; what it refuses and why goes to {@code log}. */
    public LazyPageServer(StoredImage image, PageServerLimits limits, PrintStream log) {
        this.image = image;
        this.limits = limits;
        this.log = log;
    }

    /** {@code PS_IOV_GET} requests answered so far, over every conversation. */
    public long requests() {
        return requests.get();
    }

    /** Pages sent so far, over every conversation. */
    public long pagesServed() {
        return pagesServed.get();
    }

    /**
     * Answers the requests on {@code connection} in order until lazy-pages sends its close (true)
     * or the conversation ends otherwise (false: the connection ended, a request was refused, or
     * the image could not be read). The connection is closed on return. Safe to call from several
     * threads at once, one connection each.
     */
    public boolean serve(Socket connection) throws IOException {
        try (connection) {
            PageServerReader reader = new PageServerReader(connection.getInputStream(), limits);
            OutputStream out = connection.getOutputStream();
            while (true) {
                PageServerMessage m = reader.next();
                if (m == null) {
                    log.println("cairn: lazy-pages closed the connection without PS_IOV_CLOSE");
                    return false;
                }
                switch (m.command()) {
                    case GET -> {
                        if (!answer(m, out)) {
                            return false;
                        }
                    }
                    case CLOSE, FORCE_CLOSE -> {
                        out.write(PageServerCodec.closeAnswer(0));
                        out.flush();
                        return true;
                    }
                    default -> {
                        log.println("cairn: lazy-pages sent " + m.describe() + ", which a lazy restore never sends; "
                                + "the connection is closed");
                        return false;
                    }
                }
            }
        }
    }

    private boolean answer(PageServerMessage get, OutputStream out) throws IOException {
        StoredPagemap pagemap;
        try {
            pagemap = pagemap(get.dstId());
        } catch (CairnException e) {
            log.println("cairn: cannot answer " + get.describe() + ": " + e.getMessage() + "; the connection is closed");
            return false;
        }
        StoredPagemap.Slice slice = pagemap == null ? null : pagemap.find(get.vaddr(), get.nrPages());
        FileEntry pages = pagemap == null ? null : image.file("pages-" + pagemap.pagesId() + ".img");
        long first = slice == null ? 0 : slice.pageIndex() * PageServerCodec.PAGE_BYTES;
        if (slice == null || pages == null || first + slice.nrPages() * PageServerCodec.PAGE_BYTES > pages.size()) {
            log.println("cairn: lazy-pages asked for " + get.describe() + ", which image " + image.name()
                    + " does not hold; the connection is closed, as CRIU's own page server does");
            return false;
        }
        out.write(PageServerCodec.encode(new PageServerMessage(PageServerCommand.ADD_F, PageFlags.PRESENT,
                slice.nrPages(), get.vaddr(), get.dstId())));
        for (long done = 0; done < slice.nrPages(); done += PAGES_PER_STEP) {
            int step = (int) Math.min(PAGES_PER_STEP, slice.nrPages() - done);
            byte[] bytes;
            try {
                bytes = image.read(pages, first + done * PageServerCodec.PAGE_BYTES, step * PageServerCodec.PAGE_BYTES);
            } catch (CairnException e) {
                // The header is out: lazy-pages cannot be told otherwise than by the connection's end.
                log.println("cairn: cannot read the pages of " + get.describe() + " from the store: " + e.getMessage()
                        + "; the connection is closed");
                return false;
            }
            out.write(bytes);
        }
        out.flush();
        requests.incrementAndGet();
        pagesServed.addAndGet(slice.nrPages());
        return true;
    }

    /** The pagemap of task {@code pid}, read from the image the first time it is asked for; null when none. */
    private StoredPagemap pagemap(long pid) {
        return pagemaps.computeIfAbsent(pid, p -> {
            String name = "pagemap-" + Long.toUnsignedString(p) + ".img";
            FileEntry file = image.file(name);
            return file == null ? Optional.empty() : Optional.of(StoredPagemap.read(image, file));
        }).orElse(null);
    }
}
