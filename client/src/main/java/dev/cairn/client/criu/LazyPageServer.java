package dev.cairn.client.criu;

import dev.cairn.engine.manifest.FileEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;

/**
 * Serves {@code criu lazy-pages --page-server} from one stored image: each {@code PS_IOV_GET} is
 * answered with the pages read from that image's {@code pages-N.img} on demand, as CRIU's own page
 * server answers it from disk (docs/criu.md, Lazy restore). A request no present pagemap entry
 * holds is refused by closing the connection, as CRIU's server does.
 */
public final class LazyPageServer {

    private final StoredImage image;
    private final PageServerLimits limits;
    private final PrintStream log;
    private final Map<Long, StoredPagemap> pagemaps = new HashMap<>();
    private long requests;
    private long pagesServed;

    /** A server of {@code image}'s pages; what it refuses and why goes to {@code log}. */
    public LazyPageServer(StoredImage image, PageServerLimits limits, PrintStream log) {
        this.image = image;
        this.limits = limits;
        this.log = log;
    }

    /** {@code PS_IOV_GET} requests answered so far. */
    public long requests() {
        return requests;
    }

    /** Pages sent so far. */
    public long pagesServed() {
        return pagesServed;
    }

    /**
     * Answers the requests on {@code connection} in order until lazy-pages sends its close (true)
     * or the conversation ends otherwise (false: the connection ended, or a request was refused).
     * The connection is closed on return.
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
        StoredPagemap pagemap = pagemap(get.dstId());
        StoredPagemap.Slice slice = pagemap == null ? null : pagemap.find(get.vaddr(), get.nrPages());
        FileEntry pages = pagemap == null ? null : image.file("pages-" + pagemap.pagesId() + ".img");
        byte[] bytes = slice == null || pages == null ? null : image.read(pages,
                slice.pageIndex() * PageServerCodec.PAGE_BYTES, (int) (slice.nrPages() * PageServerCodec.PAGE_BYTES));
        if (bytes == null) {
            log.println("cairn: lazy-pages asked for " + get.describe() + ", which image " + image.name()
                    + " does not hold; the connection is closed, as CRIU's own page server does");
            return false;
        }
        out.write(PageServerCodec.encode(new PageServerMessage(PageServerCommand.ADD_F, PageFlags.PRESENT,
                slice.nrPages(), get.vaddr(), get.dstId())));
        out.write(bytes);
        out.flush();
        requests++;
        pagesServed += slice.nrPages();
        return true;
    }

    /** The pagemap of task {@code pid}, read from the image the first time it is asked for; null when none. */
    private StoredPagemap pagemap(long pid) {
        StoredPagemap known = pagemaps.get(pid);
        if (known != null) {
            return known;
        }
        String name = "pagemap-" + Long.toUnsignedString(pid) + ".img";
        FileEntry file = image.file(name);
        if (file == null) {
            return null;
        }
        StoredPagemap parsed = StoredPagemap.parse(name, image.readAll(file));
        pagemaps.put(pid, parsed);
        return parsed;
    }
}
