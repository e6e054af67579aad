package dev.cairn.client.criu;

import java.time.Duration;

/**
 * What bounds one page-server connection before Cairn trusts what it sends.
 *
 * @param maxPagesPerMessage the most pages one message may carry bytes for (or ask for, in a
 *     {@code PS_IOV_GET}). 65,536 pages (256 MiB) by default: CRIU sends the pages of one pipe
 *     buffer per message, and it sizes its pipes to at most about 1,024 pages, so a real dump stays
 *     far below; a count past the bound is a corrupt or hostile stream, refused before any page is read
 * @param maxPagemapEntries the most entries one pagemap may have, since a pagemap is kept in memory
 *     (about 20 bytes an entry) until its pages are stored. 1,048,576 by default (about 20 MiB):
 *     CRIU writes one entry per run of contiguous dumped pages, and even a process of hundreds of
 *     GiB has far fewer runs
 * @param idleTimeout how long criu may send nothing before the dump is given up. 5 minutes by
 *     default: between its connect and its first pagemap, and between its last pagemap and its
 *     close, criu freezes the tree and writes the rest of the image to disk, which takes seconds
 *     to minutes on a large tree; a dump silent for longer has hung. A lazy restore waits as long
 *     for its connection and between its requests: lazy-pages asks only while the restored process
 *     touches pages it does not have yet
 * @param maxLazyRestores the most lazy restores one {@code cairn criu lazy-pages} serves at once.
 *     16 by default: each holds a thread, a connection and one step of an answer (1 MiB), and its
 *     reads go to the cluster alongside the others', so 16 keeps a checkpoint host's memory and the
 *     nodes' read load small while a job's restore on a few hosts at once is never queued; more
 *     restores than this wait in the listen queue until one ends
 */
public record PageServerLimits(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout, int maxLazyRestores) {

    public static final PageServerLimits DEFAULT = new PageServerLimits(65_536, 1 << 20, Duration.ofMinutes(5),
            PageServerLimits.DEFAULT_MAX_LAZY_RESTORES);

    /** Limits of a dump (the lazy restores' default applies). */
    public PageServerLimits(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout) {
        this(maxPagesPerMessage, maxPagemapEntries, idleTimeout, DEFAULT_MAX_LAZY_RESTORES);
    }

    private static final int DEFAULT_MAX_LAZY_RESTORES = 16;

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
    }

    /** These limits with at most {@code pages} pages per message. */
    public PageServerLimits withMaxPagesPerMessage(int pages) {
        return new PageServerLimits(pages, maxPagemapEntries, idleTimeout, maxLazyRestores);
    }
}
