package dev.cairn.client.criu;

import dev.cairn.config.PageServerConfig;
import java.time.Duration;

/**
 * What bounds one page-server connection before Cairn trusts what it sends, and how many lazy
 * restores one server answers at once: the client config's {@link PageServerConfig}, whose
 * defaults and their reasons are documented there and in docs/configuration.md.
 *
 * @param maxPagesPerMessage the most pages one message may carry bytes for (or ask for, in a
 *     {@code PS_IOV_GET}); a count past the bound is refused before any page is read
 * @param maxPagemapEntries the most entries one pagemap may have, since a pagemap is kept in memory
 *     until its pages are stored
 * @param idleTimeout how long criu may send nothing before the dump (or the lazy restore) is given up
 * @param maxLazyRestores the most lazy restores one {@code cairn criu lazy-pages} serves at once;
 *     more wait in the listen queue until one ends
 * @param lazyReadAheadBytes the most page bytes a lazy-pages server holds read ahead, over all its restores
 * @param ingestBufferBytes the most page bytes a dump holds between criu's connection and the upload
 */
public record PageServerLimits(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout, int maxLazyRestores,
                               long lazyReadAheadBytes, long ingestBufferBytes) {

    public static final PageServerLimits DEFAULT = of(PageServerConfig.DEFAULT);

    /** Limits of a dump (the lazy restores' default applies). */
    public PageServerLimits(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout) {
        this(maxPagesPerMessage, maxPagemapEntries, idleTimeout, PageServerConfig.DEFAULT_MAX_LAZY_RESTORES);
    }

    /** Limits with the default read-ahead and ingest buffer. */
    public PageServerLimits(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout, int maxLazyRestores) {
        this(maxPagesPerMessage, maxPagemapEntries, idleTimeout, maxLazyRestores,
                PageServerConfig.DEFAULT_LAZY_READ_AHEAD_BYTES, PageServerConfig.DEFAULT_INGEST_BUFFER_BYTES);
    }

    public PageServerLimits {
        if (maxPagesPerMessage < 1) {
            throw new IllegalArgumentException(
                    "a page-server message must be allowed at least 1 page, not " + maxPagesPerMessage);
        }
        if (maxPagemapEntries < 1) {
            throw new IllegalArgumentException("a pagemap must be allowed at least 1 entry, not " + maxPagemapEntries);
        }
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("the page server's idle timeout must be positive, not " + idleTimeout);
        }
        if (maxLazyRestores < 1) {
            throw new IllegalArgumentException("at least 1 lazy restore must be allowed at once, not " + maxLazyRestores);
        }
        if (lazyReadAheadBytes < 0 || ingestBufferBytes < 0) {
            throw new IllegalArgumentException("the read-ahead and the ingest buffer must be 0 (off) or more bytes, not "
                    + lazyReadAheadBytes + " and " + ingestBufferBytes);
        }
    }

    /** The limits a client config sets. */
    public static PageServerLimits of(PageServerConfig config) {
        return new PageServerLimits(config.maxPagesPerMessage(), config.maxPagemapEntries(), config.idleTimeout(),
                config.maxLazyRestores(), config.lazyReadAheadBytes(), config.ingestBufferBytes());
    }

    /** These limits with at most {@code pages} pages per message. */
    public PageServerLimits withMaxPagesPerMessage(int pages) {
        return new PageServerLimits(pages, maxPagemapEntries, idleTimeout, maxLazyRestores, lazyReadAheadBytes,
                ingestBufferBytes);
    }

    /** These limits with another read-ahead bound and ingest buffer (bytes; 0 turns either off). */
    public PageServerLimits withBuffers(long readAheadBytes, long bufferBytes) {
        return new PageServerLimits(maxPagesPerMessage, maxPagemapEntries, idleTimeout, maxLazyRestores, readAheadBytes,
                bufferBytes);
    }
}
