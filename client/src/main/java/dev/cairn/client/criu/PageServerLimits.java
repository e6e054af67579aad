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
 *     to minutes on a large tree; a dump silent for longer has hung
 */
public record PageServerLimits(int maxPagesPerMessage, int maxPagemapEntries, Duration idleTimeout) {

    public static final PageServerLimits DEFAULT = new PageServerLimits(65_536, 1 << 20, Duration.ofMinutes(5));

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
    }

    /** These limits with at most {@code pages} pages per message. */
    public PageServerLimits withMaxPagesPerMessage(int pages) {
        return new PageServerLimits(pages, maxPagemapEntries, idleTimeout);
    }
}
