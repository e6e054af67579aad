package dev.cairn.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ImageNameTest {

    private static void refused(String value, String expected) {
        ImageName.InvalidNameException e = assertThrows(ImageName.InvalidNameException.class, () -> new ImageName(value),
                "'" + value + "' should be refused");
        assertTrue(e.getMessage().contains(expected), "for '" + value + "': " + e.getMessage());
        assertEquals(e.getMessage(), ImageName.problem(value));
    }

    @Test
    void acceptsSegmentsOfLettersDigitsDotsUnderscoresAndDashes() {
        for (String ok : new String[] {"img/a", "job-42/rank_0/ckpt.7", "a", "..a/b..", ".hidden", "A-Z_0.9"}) {
            assertEquals(ok, new ImageName(ok).value());
            assertNull(ImageName.problem(ok), ok);
        }
    }

    @Test
    void acceptsExactlyTheMaximumLength() {
        String name = "a".repeat(ImageName.MAX_LENGTH);
        assertEquals(name, new ImageName(name).toString());
    }

    @Test
    void refusesAnEmptyName() {
        refused("", "image name is empty");
        refused(null, "image name is empty");
    }

    @Test
    void refusesEmptySegments() {
        refused("/img", "empty segment");
        refused("img/", "empty segment");
        refused("img//a", "empty segment");
        refused("/", "empty segment");
    }

    @Test
    void refusesDotAndDotDotSegments() {
        refused("img/../etc", "has a '..' segment");
        refused("..", "has a '..' segment");
        refused("img/.", "has a '.' segment");
        refused("./img", "has a '.' segment");
    }

    @Test
    void refusesSpacesUnicodeAndOtherCharacters() {
        refused("img/a b", "character outside [A-Za-z0-9._-] in segment 'a b'");
        refused("img/caf\u00e9", "character outside [A-Za-z0-9._-]");
        refused("img\\a", "character outside");
        refused("img/a\n", "character outside");
        refused("img:a", "character outside");
    }

    @Test
    void refusesANameOverTheMaximumLength() {
        refused("a".repeat(ImageName.MAX_LENGTH + 1), "is 256 characters long; the limit is 255");
    }

    @Test
    void namesSortByTheirText() {
        assertTrue(new ImageName("a/b").compareTo(new ImageName("a/c")) < 0);
        assertEquals(new ImageName("a/b"), new ImageName("a/b"));
    }
}
