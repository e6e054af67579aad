package dev.cairn.client.criu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code pagemap-*.img} read back from the store: which {@code pages-N.img} holds its pages and,
 * for each entry, where in that file its first page is, so a {@code PS_IOV_GET} becomes one byte
 * range of one file (docs/criu.md, Image framing).
 */
final class StoredPagemap {

    /** One entry: {@code firstPage} is its first page's index in {@code pages-N.img} when it is present. */
    record Entry(long vaddr, long nrPages, int flags, long firstPage) {
        long end() {
            return vaddr + nrPages * PageServerCodec.PAGE_BYTES;
        }
    }

    /** Where a requested range starts in the pages file, and how many of its pages one answer may carry. */
    record Slice(long pageIndex, long nrPages) {}

    private final long pagesId;
    private final List<Entry> entries;

    private StoredPagemap(long pagesId, List<Entry> entries) {
        this.pagesId = pagesId;
        this.entries = entries;
    }

    /** The N of the {@code pages-N.img} this pagemap's present pages are in. */
    long pagesId() {
        return pagesId;
    }

    List<Entry> entries() {
        return entries;
    }

    /**
     * The part of {@code nrPages} pages from {@code vaddr} that one present entry holds, as CRIU's
     * own server answers: from the entry holding {@code vaddr} to the end of that entry at most.
     * Null when no present entry holds {@code vaddr}: CRIU's server then closes the connection.
     */
    Slice find(long vaddr, long nrPages) {
        for (Entry e : entries) {
            if (Long.compareUnsigned(vaddr, e.vaddr()) >= 0 && Long.compareUnsigned(vaddr, e.end()) < 0) {
                if (!PageFlags.present(e.flags())) {
                    return null;
                }
                long skip = (vaddr - e.vaddr()) / PageServerCodec.PAGE_BYTES;
                return new Slice(e.firstPage() + skip, Math.min(nrPages, e.nrPages() - skip));
            }
        }
        return null;
    }

    /** Parses a pagemap image; {@code name} is for the error message. */
    static StoredPagemap parse(String name, byte[] image) {
        ByteBuffer in = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (in.getInt() != PagemapImage.COMMON_MAGIC || in.getInt() != PagemapImage.PAGEMAP_MAGIC) {
                throw bad(name, "it does not start with CRIU's pagemap magics");
            }
            long[] head = fields(in, name);
            List<Entry> entries = new ArrayList<>();
            long nextPage = 0;
            while (in.hasRemaining()) {
                long[] f = fields(in, name);
                long count = f[5] != 0 ? f[5] : f[2];
                int flags = (int) f[4];
                if (flags == 0) { // CRIU before page flags: in_parent, else present
                    flags = f[3] != 0 ? PageFlags.PARENT : PageFlags.PRESENT;
                }
                entries.add(new Entry(f[1], count, flags, nextPage));
                if (PageFlags.present(flags)) {
                    nextPage += count;
                }
            }
            return new StoredPagemap(head[1], List.copyOf(entries));
        } catch (java.nio.BufferUnderflowException e) {
            throw bad(name, "it ends inside a message");
        }
    }

    /** Fields 1 to 5 of one length-prefixed message (0 when absent); other fields are skipped. */
    private static long[] fields(ByteBuffer in, String name) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw bad(name, "a message claims " + Integer.toUnsignedString(length) + " bytes, more than are left");
        }
        ByteBuffer m = in.slice().limit(length);
        in.position(in.position() + length);
        long[] f = new long[6];
        while (m.hasRemaining()) {
            long key = varint(m);
            int number = (int) (key >>> 3);
            switch ((int) (key & 7)) {
                case 0 -> {
                    long v = varint(m);
                    if (number >= 1 && number <= 5) {
                        f[number] = v;
                    }
                }
                case 1 -> m.position(m.position() + 8);
                case 2 -> m.position(m.position() + (int) varint(m));
                case 5 -> m.position(m.position() + 4);
                default -> throw bad(name, "a field has wire type " + (key & 7) + ", which pagemaps do not use");
            }
        }
        return f;
    }

    private static long varint(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.get();
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw new java.nio.BufferUnderflowException();
    }

    private static IllegalArgumentException bad(String name, String why) {
        return new IllegalArgumentException(name + " of the stored image is not a pagemap CRIU can have written: " + why);
    }
}
