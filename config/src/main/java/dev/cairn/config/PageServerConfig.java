package dev.cairn.config;

import java.time.Duration;

/**
 * Named limits of the CRIU page server a client runs ({@code cairn criu dump}, {@code page-server},
 * {@code lazy-pages}; docs/criu.md): what bounds one connection of criu before Cairn trusts what
 * it sends, and how many lazy restores one server answers at once.
 *
 * @param maxPagesPerMessage the most pages one message may carry bytes for, or ask for in a
 *     {@code PS_IOV_GET} ({@link #DEFAULT_MAX_PAGES_PER_MESSAGE})
 * @param maxPagemapEntries the most entries one pagemap may have ({@link #DEFAULT_MAX_PAGEMAP_ENTRIES})
 * @param idleTimeout how long criu may send nothing, and how long a lazy restore may take to
 *     connect ({@link #DEFAULT_IDLE_TIMEOUT})
 * @param maxLazyRestores the most lazy restores one server answers at once ({@link #DEFAULT_MAX_LAZY_RESTORES})
 * @param lazyReadAheadBytes the most page bytes one lazy-pages server holds read ahead of its
 *     restores' requests, over all of them ({@link #DEFAULT_LAZY_READ_AHEAD_BYTES}); 0 reads only what is asked
 * @param ingestBufferBytes the most page bytes a dump holds in memory between criu's connection and
 *     the upload ({@link #DEFAULT_INGEST_BUFFER_BYTES}); 0 reads criu only as fast as the store takes the pages
 */
public record PageServerConfig(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout, int maxLazyRestores,
                               long lazyReadAheadBytes, long ingestBufferBytes) {

    /**
     * 65,536 pages (256 MiB): CRIU sends the pages of one pipe buffer per message and sizes its
     * pipes to at most about 1,024 pages, so a real dump stays far below; a count past the bound
     * is a corrupt or hostile stream, refused before any page is read.
     */
    public static final int DEFAULT_MAX_PAGES_PER_MESSAGE = 65_536;
    /**
     * 1,048,576 (about 20 MiB held): a pagemap is kept in memory, about 20 bytes an entry, until its
     * pages are stored; CRIU writes one entry per run of contiguous dumped pages, and even a process
     * of hundreds of GiB has far fewer runs.
     */
    public static final int DEFAULT_MAX_PAGEMAP_ENTRIES = 1 << 20;
    /**
     * 5 minutes: between its connect and its first pagemap, and between its last pagemap and its
     * close, criu freezes the tree and writes the rest of the image to disk, which takes seconds to
     * minutes on a large tree; a dump silent for longer has hung. A lazy restore waits as long for
     * its connection and between its requests: lazy-pages asks only while the restored process
     * touches pages it does not have yet.
     */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    /**
     * 16: each restore served holds a thread, a connection and one step of an answer (1 MiB), and
     * its reads go to the cluster alongside the others', so 16 keeps a checkpoint host's memory and
     * the nodes' read load small while the restores of a job on a few hosts at once are never
     * queued; more wait in the listen queue until one ends.
     */
    public static final int DEFAULT_MAX_LAZY_RESTORES = 16;
    /**
     * The largest {@code maxLazyRestores}, and of the restores one server is started for: each
     * served at once is a thread and a socket of the checkpoint host, and each restore gets its own
     * directory of the image's files.
     */
    public static final int MAX_LAZY_RESTORES = 1024;
    /**
     * 64 MiB: criu lazy-pages' background transfer asks for the pages in order, a few at a time, and
     * each answer read from the store on demand costs a round trip to the cluster; reading 16 MiB
     * ahead per restore in 1 MiB batches answers most requests from memory. Shared by all restores
     * one server answers (pages leave it once sent), so 4 restores at once each keep 16 MiB ahead
     * and a checkpoint host's memory stays bounded whatever {@code --restores} is.
     */
    public static final long DEFAULT_LAZY_READ_AHEAD_BYTES = 64L << 20;
    /**
     * 512 MiB: criu sends the pages while the process tree is frozen, so the freeze lasts as long as
     * Cairn takes to read them; a buffer that holds a few-hundred-MB process whole lets criu send at
     * memory speed and thaw the tree while the upload drains it. Past it, criu waits for the store
     * again. Never more than three quarters of the client's heap limit, which by default also bounds
     * the memory outside the heap that the buffer takes; the last quarter stays for the sockets'.
     */
    public static final long DEFAULT_INGEST_BUFFER_BYTES = 512L << 20;

    public static final PageServerConfig DEFAULT = new PageServerConfig(DEFAULT_MAX_PAGES_PER_MESSAGE,
            DEFAULT_MAX_PAGEMAP_ENTRIES, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_LAZY_RESTORES, DEFAULT_LAZY_READ_AHEAD_BYTES,
            DEFAULT_INGEST_BUFFER_BYTES);

    /** The given limits, with the default read-ahead and ingest buffer. */
    public PageServerConfig(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout, int maxLazyRestores) {
        this(maxPagesPerMessage, maxPagemapEntries, idleTimeout, maxLazyRestores, DEFAULT_LAZY_READ_AHEAD_BYTES,
                DEFAULT_INGEST_BUFFER_BYTES);
    }

    public PageServerConfig {
        if (maxPagesPerMessage < 1) {
            throw new ConfigException("page server maxPagesPerMessage must be at least 1, not " + maxPagesPerMessage
                    + "; " + DEFAULT_MAX_PAGES_PER_MESSAGE + " is the default");
        }
        if (maxPagemapEntries < 1) {
            throw new ConfigException("page server maxPagemapEntries must be at least 1, not " + maxPagemapEntries
                    + "; " + DEFAULT_MAX_PAGEMAP_ENTRIES + " is the default");
        }
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new ConfigException("page server idleTimeout must be a positive duration, not " + idleTimeout
                    + "; " + DEFAULT_IDLE_TIMEOUT.toSeconds() + " s is the default");
        }
        if (maxLazyRestores < 1 || maxLazyRestores > MAX_LAZY_RESTORES) {
            throw new ConfigException("page server maxLazyRestores must be 1.." + MAX_LAZY_RESTORES + ", not "
                    + maxLazyRestores + "; " + DEFAULT_MAX_LAZY_RESTORES + " is the default");
        }
        if (lazyReadAheadBytes < 0) {
            throw new ConfigException("page server lazyReadAheadBytes must be 0 (off) or more, not " + lazyReadAheadBytes
                    + "; " + DEFAULT_LAZY_READ_AHEAD_BYTES + " is the default");
        }
        if (ingestBufferBytes < 0) {
            throw new ConfigException("page server ingestBufferBytes must be 0 (off) or more, not " + ingestBufferBytes
                    + "; " + DEFAULT_INGEST_BUFFER_BYTES + " is the default");
        }
    }

    /** The same, answering at most {@code restores} lazy restores at once. */
    public PageServerConfig withMaxLazyRestores(int restores) {
        return new PageServerConfig(maxPagesPerMessage, maxPagemapEntries, idleTimeout, restores, lazyReadAheadBytes,
                ingestBufferBytes);
    }

    /** The same, with another idle timeout. */
    public PageServerConfig withIdleTimeout(Duration timeout) {
        return new PageServerConfig(maxPagesPerMessage, maxPagemapEntries, timeout, maxLazyRestores, lazyReadAheadBytes,
                ingestBufferBytes);
    }

    /** The same, with another read-ahead bound and ingest buffer. */
    public PageServerConfig withBuffers(long readAheadBytes, long bufferBytes) {
        return new PageServerConfig(maxPagesPerMessage, maxPagemapEntries, idleTimeout, maxLazyRestores, readAheadBytes,
                bufferBytes);
    }
}
