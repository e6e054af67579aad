package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnException;
import org.junit.jupiter.api.Test;

/** {@code --max-bytes} of {@code cairn admin quota set}: bytes, or K, M, G, T in powers of 1024. */
class QuotaSizeTest {

    @Test
    void plainBytesAndBinarySuffixes() {
        assertEquals(1_000_000, QuotaCommands.parseSize("1000000"));
        assertEquals(10_240, QuotaCommands.parseSize("10K"));
        assertEquals(5L << 20, QuotaCommands.parseSize("5m"));
        assertEquals(500L << 30, QuotaCommands.parseSize("500G"));
        assertEquals(2L << 40, QuotaCommands.parseSize("2TiB"));
        assertEquals(3L << 30, QuotaCommands.parseSize("3GB"));
    }

    @Test
    void aBadOrTooLargeSizeSaysWhatToWrite() {
        CairnException e = assertThrows(CairnException.class, () -> QuotaCommands.parseSize("lots"));
        assertTrue(e.getMessage().contains("write bytes (1000000) or a number with K, M, G or T"), e.getMessage());
        assertThrows(CairnException.class, () -> QuotaCommands.parseSize("1.5G"));
        assertThrows(CairnException.class, () -> QuotaCommands.parseSize("-1"));
        e = assertThrows(CairnException.class, () -> QuotaCommands.parseSize("9000000T"));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
    }
}
