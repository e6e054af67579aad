package dev.cairn.client.criu;

/**
 * What bounds one page-server message before Cairn trusts it.
 *
 * @param maxPagesPerMessage the most pages one message may carry bytes for (or ask for, in a
 *     {@code PS_IOV_GET}). 65,536 pages (256 MiB) by default: CRIU sends the pages of one pipe
 *     buffer per message, and it sizes its pipes to at most 1,024 pages, so a real dump stays far
 *     below; a count past the bound is a corrupt or hostile stream, refused before any page is read
 */
public record PageServerLimits(int maxPagesPerMessage) {

    public static final PageServerLimits DEFAULT = new PageServerLimits(65_536);

    public PageServerLimits {
        if (maxPagesPerMessage < 1) {
            throw new IllegalArgumentException(
                    "a page-server message must be allowed at least 1 page, not " + maxPagesPerMessage);
        }
    }
}
