package dev.cairn.client.criu;

import java.io.ByteArrayOutputStream;

/**
 * A {@code pagemap-*.img} file as CRIU writes it: the common and pagemap magics, a length-prefixed
 * {@code pagemap_head}, then one length-prefixed {@code pagemap_entry} per range, all
 * little-endian. The few protobuf fields are encoded here by hand (docs/criu.md, Image framing).
 */
final class PagemapImage {

    static final int COMMON_MAGIC = 0x54564319;
    static final int PAGEMAP_MAGIC = 0x56084025;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream message = new ByteArrayOutputStream(32);
    private final int maxEntries;
    private int entries;

    /** Starts the image of a pagemap whose present pages are in {@code pages-PAGESID.img}. */
    PagemapImage(long pagesId, int maxEntries) {
        this.maxEntries = maxEntries;
        le32(out, COMMON_MAGIC);
        le32(out, PAGEMAP_MAGIC);
        varintField(1, pagesId);
        flush();
    }

    /**
     * Appends an entry with exactly the fields CRIU's own page server (4.1.1) writes: vaddr,
     * compat_nr_pages holding the page count, and flags; no nr_pages (field 5), with which criu
     * restore 4.1.1 did not find the pages. The count always fits: the wire carries it in 32 bits.
     *
     * @return false when the pagemap already holds its limit of entries
     */
    boolean add(long vaddr, long nrPages, int flags) {
        if (entries == maxEntries) {
            return false;
        }
        if (Long.compareUnsigned(nrPages, 0xffff_ffffL) > 0) {
            throw new IllegalArgumentException("a pagemap entry counts at most 2^32 - 1 pages, not " + nrPages);
        }
        varintField(1, vaddr);
        varintField(2, nrPages);
        varintField(4, Integer.toUnsignedLong(flags));
        flush();
        entries++;
        return true;
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    private void varintField(int number, long value) {
        varint(message, (long) number << 3); // wire type 0: varint
        varint(message, value);
    }

    private void flush() {
        le32(out, message.size());
        out.writeBytes(message.toByteArray());
        message.reset();
    }

    private static void varint(ByteArrayOutputStream to, long value) {
        while ((value & ~0x7fL) != 0) {
            to.write((int) (value & 0x7f) | 0x80);
            value >>>= 7;
        }
        to.write((int) value);
    }

    private static void le32(ByteArrayOutputStream to, int value) {
        to.write(value);
        to.write(value >>> 8);
        to.write(value >>> 16);
        to.write(value >>> 24);
    }
}
