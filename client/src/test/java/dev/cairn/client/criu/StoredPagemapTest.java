package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A {@code pagemap-*.img} read back from the store: a whole one parses to its entries, and a
 * damaged one (cut short, bytes changed, not a pagemap at all) is refused with one message that
 * names the file, never with another kind of failure.
 */
class StoredPagemapTest {

    private static final long BASE = 0x7f00_0000_0000L;

    private static byte[] valid() {
        PagemapImage pagemap = new PagemapImage(65_537, 100);
        pagemap.add(BASE, 3, PageFlags.PRESENT);
        pagemap.add(BASE + 10L * 4096, 2, PageFlags.LAZY);
        pagemap.add(BASE + 20L * 4096, 4, PageFlags.LAZY | PageFlags.PRESENT);
        return pagemap.bytes();
    }

    @Test
    void aWholePagemapParsesToItsEntries() {
        StoredPagemap p = StoredPagemap.parse("pagemap-42.img", valid());
        assertEquals(65_537, p.pagesId());
        assertEquals(3, p.entries().size());
        assertEquals(new StoredPagemap.Entry(BASE + 20L * 4096, 4, PageFlags.LAZY | PageFlags.PRESENT, 3), p.entries().get(2));
    }

    @Test
    void notAPagemapIsRefusedNamingTheFile() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StoredPagemap.parse("pagemap-42.img", "core of task 42, not a pagemap".getBytes()));
        assertTrue(e.getMessage().startsWith("pagemap-42.img of the stored image is not a pagemap CRIU can have written: "),
                e.getMessage());
    }

    @Test
    void everyCutAndManyChangedBytesAreRefusedAsDamagedNeverOtherwise() {
        byte[] whole = valid();
        for (int length = 0; length < whole.length; length++) {
            byte[] cut = Arrays.copyOf(whole, length);
            try {
                StoredPagemap.parse("pagemap-42.img", cut);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains("is not a pagemap CRIU can have written"), e.getMessage());
            }
        }
        Random random = new Random(42);
        for (int round = 0; round < 20_000; round++) {
            byte[] changed = whole.clone();
            for (int k = 1 + random.nextInt(3); k > 0; k--) {
                changed[random.nextInt(changed.length)] = (byte) random.nextInt(256);
            }
            try {
                StoredPagemap.parse("pagemap-42.img", changed);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains("is not a pagemap CRIU can have written"), e.getMessage());
            }
        }
    }

    @Test
    void anEntryNoDumpHasIsRefused() {
        PagemapImage pagemap = new PagemapImage(65_537, 100);
        pagemap.add(BASE + 1, 1, PageFlags.PRESENT); // not page-aligned
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StoredPagemap.parse("pagemap-42.img", pagemap.bytes()));
        assertTrue(e.getMessage().contains("entry 1 has 1 pages at 0x7f0000000001"), e.getMessage());
    }
}
