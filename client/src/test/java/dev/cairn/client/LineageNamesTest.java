package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cairn.engine.ImageName;
import org.junit.jupiter.api.Test;

/** A {@code parent} link read as an image name, from the child's name as a directory. */
class LineageNamesTest {

    private static final ImageName CHILD = new ImageName("job/ckpt-2");

    @Test
    void aRelativeLinkIsReadFromTheChildsNameAsADirectory() {
        assertEquals(new ImageName("job/ckpt-1"), Lineage.resolve(CHILD, "../ckpt-1"));
        assertEquals(new ImageName("job/ckpt-1"), Lineage.resolve(CHILD, "../ckpt-1/"));
        assertEquals(new ImageName("other/ckpt-9"), Lineage.resolve(CHILD, "../../other/./ckpt-9"));
        assertEquals(new ImageName("job/ckpt-2/base"), Lineage.resolve(CHILD, "base"));
    }

    @Test
    void aLinkThatNamesNoImageIsNull() {
        assertNull(Lineage.resolve(CHILD, "/var/lib/criu/ckpt-1"), "absolute");
        assertNull(Lineage.resolve(CHILD, "../../../ckpt-1"), "above the names' root");
        assertNull(Lineage.resolve(CHILD, "../.."), "the root itself");
        assertNull(Lineage.resolve(CHILD, "../ckpt 1"), "a character no name has");
        assertNull(Lineage.resolve(CHILD, ""));
    }
}
