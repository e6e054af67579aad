package dev.cairn.client.criu;

import java.util.ArrayList;
import java.util.List;

/** The flags of a pagemap entry, as CRIU's {@code PE_*} bits carry them on the wire and in pagemap images. */
public final class PageFlags {

    /** The pages are in the parent dump (an incremental dump's hole). */
    public static final int PARENT = 1;
    /** The pages may be restored lazily, on first touch. */
    public static final int LAZY = 1 << 1;
    /** The pages' bytes are in this dump's pages image (and follow the entry on the wire). */
    public static final int PRESENT = 1 << 2;

    static final int KNOWN = PARENT | LAZY | PRESENT;

    private PageFlags() {}

    /** True when a pagemap entry with these flags is followed by its pages' bytes. */
    public static boolean present(int flags) {
        return (flags & PRESENT) != 0;
    }

    /** The flags as CRIU's names, for messages: {@code present|lazy}. */
    public static String describe(int flags) {
        List<String> names = new ArrayList<>();
        if ((flags & PARENT) != 0) {
            names.add("parent");
        }
        if ((flags & LAZY) != 0) {
            names.add("lazy");
        }
        if ((flags & PRESENT) != 0) {
            names.add("present");
        }
        int unknown = flags & ~KNOWN;
        if (unknown != 0) {
            names.add("0x" + Integer.toHexString(unknown));
        }
        return names.isEmpty() ? "none" : String.join("|", names);
    }
}
