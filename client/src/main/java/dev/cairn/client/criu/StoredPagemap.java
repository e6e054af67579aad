package dev.cairn.client.criu;

import dev.cairn.client.CairnException;
import dev.cairn.engine.manifest.FileEntry;
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

    /** No mapping of a 64-bit address space has more pages than this (2^52 pages of 4 KiB). */
    private static final long MAX_ENTRY_PAGES = 1L << 52;

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

    /**
     * Reads and parses {@code file} of {@code image}; a file that is not a pagemap CRIU can have
     * written fails with {@link CairnException.CorruptData}, naming the image and the file.
     */
    static StoredPagemap read(StoredImage image, FileEntry file) {
        try {
            return parse(file.path(), image.readAll(file));
        } catch (IllegalArgumentException e) {
            throw new CairnException.CorruptData("image " + image.name() + " cannot be restored lazily: " + e.getMessage()
                    + "; it is damaged or was not stored from a criu dump (cairn verify " + image.name()
                    + " checks its chunks)");
        }
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
                if (count <= 0 || count > MAX_ENTRY_PAGES || f[1] % PageServerCodec.PAGE_BYTES != 0
                        || f[4] < 0 || f[4] > (PageFlags.PARENT | PageFlags.LAZY | PageFlags.PRESENT)) {
                    throw bad(name, "entry " + (entries.size() + 1) + " has " + count + " pages at 0x"
                            + Long.toHexString(f[1]) + " with flags " + f[4] + ", which no dump has");
                }
                if (flags == 0) { // CRIU before page flags: in_parent, else present
                    flags = f[3] != 0 ? PageFlags.PARENT : PageFlags.PRESENT;
                }
                entries.add(new Entry(f[1], count, flags, nextPage));
                if (PageFlags.present(flags)) {
                    nextPage += count;
                }
            }
            return new StoredPagemap(head[1], List.copyOf(entries));
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
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
                case 1 -> skip(m, 8);
                case 2 -> skip(m, varint(m));
                case 5 -> skip(m, 4);
                default -> throw bad(name, "a field has wire type " + (key & 7) + ", which pagemaps do not use");
            }
        }
        return f;
    }

    private static void skip(ByteBuffer m, long bytes) {
        if (bytes < 0 || bytes > m.remaining()) {
            throw new java.nio.BufferUnderflowException();
        }
        m.position(m.position() + (int) bytes);
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
