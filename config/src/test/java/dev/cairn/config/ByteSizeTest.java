package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Sizes as written on command lines, and refusals that name the flag. */
class ByteSizeTest {

    @Test
    void suffixesArePowersOf1024() {
        assertEquals(512, ByteSize.parse("--size", "512"));
        assertEquals(16L << 20, ByteSize.parse("--size", "16m"));
        assertEquals(1L << 30, ByteSize.parse("--size", "1g"));
        assertEquals(2L << 40, ByteSize.parse("--size", "2TiB"));
    }

    @Test
    void aBadSizeNamesTheFlag() {
        ConfigException e = assertThrows(ConfigException.class, () -> ByteSize.parse("--size", "1.5g"));
        assertTrue(e.getMessage().startsWith("--size '1.5g' is not a size"), e.getMessage());
    }
}
