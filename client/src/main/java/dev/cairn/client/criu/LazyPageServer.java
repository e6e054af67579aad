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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves {@code criu lazy-pages --page-server} from one stored image: each {@code PS_IOV_GET} is
 * answered with the pages read from that image's {@code pages-N.img} on demand, as CRIU's own page
 * server answers it from disk (docs/criu.md, Lazy restore). A request no present pagemap entry
 * holds is refused by closing the connection, as CRIU's server does.
 *
 * <p>Several conversations (one per restore) may be served at once, each on its own thread: the
 * parsed pagemaps are shared, the counters are totals over all of them. Each conversation reads
 * ahead of its requests ({@link ReadAhead}, per restore since each restore walks its pages at its
 * own pace and a page leaves memory once that restore has been sent it), on a few background
 * threads and within one byte budget shared by all ({@link PageServerLimits#lazyReadAheadBytes()}).
 */
public final class LazyPageServer {

    /**
     * Pages read from the store and written per step of an answer: a {@code PS_IOV_GET} may ask for
     * up to {@link PageServerLimits#maxPagesPerMessage()} pages, and each conversation holds one
     * step's bytes at a time, so memory stays at 1 MiB per restore whatever lazy-pages asks.
     */
    static final int PAGES_PER_STEP = 256;
    /**
     * Background reads at once over all conversations: each is one fetch of a 1 MiB batch, which the
     * cluster answers from several nodes, so a few keep the reads flowing without crowding out faults.
     */
    static final int READ_AHEAD_THREADS = 4;

    private final StoredImage image;
    private final PageServerLimits limits;
    private final PrintStream log;
    /** The pagemap of each task asked for so far; empty when the image has none for that pid. */
    private final Map<Long, Optional<StoredPagemap>> pagemaps = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong pagesServed = new AtomicLong();
    private final AtomicLong pagesFromMemory = new AtomicLong();
    private final ReadAhead.Budget budget;
    private final ExecutorService readers;

    /** A server of {@code image}'s pages; what it refuses and why goes to {@code log}. */
    public LazyPageServer(StoredImage image, PageServerLimits limits, PrintStream log) {
        this.image = image;
        this.limits = limits;
        this.log = log;
        this.budget = new ReadAhead.Budget(limits.lazyReadAheadBytes());
        AtomicLong threads = new AtomicLong();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(READ_AHEAD_THREADS, READ_AHEAD_THREADS, 10, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "cairn-read-ahead-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true); // a server between restores holds no threads
        this.readers = pool;
    }

    /** {@code PS_IOV_GET} requests answered so far, over every conversation. */
    public long requests() {
        return requests.get();
    }

    /** Pages sent so far, over every conversation. */
    public long pagesServed() {
        return pagesServed.get();
    }

    /** Pages sent that had been read ahead, over every conversation. */
    public long pagesFromReadAhead() {
        return pagesFromMemory.get();
    }

    /** Bytes held read ahead now, over every conversation. */
    long readAheadHeldBytes() {
        return budget.held();
    }

    /** The most bytes held read ahead at once so far; never more than the limit. */
    long readAheadPeakBytes() {
        return budget.peak();
    }

    /**
     * Answers the requests on {@code connection} in order until lazy-pages sends its close (true)
     * or the conversation ends otherwise (false: the connection ended, a request was refused, or
     * the image could not be read). The connection is closed on return. Safe to call from several
     * threads at once, one connection each.
     */
    public boolean serve(Socket connection) throws IOException {
        try (connection; ReadAhead ahead = new ReadAhead(image, readers, budget)) {
            try {
                return converse(connection, ahead);
            } finally {
                pagesFromMemory.addAndGet(ahead.pagesFromMemory());
            }
        }
    }

    private boolean converse(Socket connection, ReadAhead ahead) throws IOException {
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
                    if (!answer(m, out, ahead)) {
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

    private boolean answer(PageServerMessage get, OutputStream out, ReadAhead ahead) throws IOException {
        StoredPagemap pagemap;
        try {
            pagemap = pagemap(get.dstId());
        } catch (CairnException e) {
            log.println("cairn: cannot answer " + get.describe() + ": " + e.getMessage() + "; the connection is closed");
            return false;
        }
        StoredPagemap.Slice slice = pagemap == null ? null : pagemap.find(get.vaddr(), get.nrPages());
        FileEntry pages = pagemap == null ? null : image.file("pages-" + pagemap.pagesId() + ".img");
        if (slice == null || pages == null
                || (slice.pageIndex() + slice.nrPages()) * PageServerCodec.PAGE_BYTES > pages.size()) {
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
                bytes = ahead.read(pages, pagemap, slice.pageIndex() + done, step);
            } catch (CairnException e) {
                // The header is out: lazy-pages cannot be told otherwise than by the connection's end.
                log.println("cairn: cannot read the pages of " + get.describe() + " from the store: " + e.getMessage()
                        + "; the connection is closed");
                return false;
            }
            out.write(bytes);
        }
        out.flush();
        if (limits.lazyReadAheadBytes() > 0) {
            ahead.readAfter(pages, pagemap, slice.pageIndex() + slice.nrPages());
        }
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
