package dev.cairn.engine.chunking;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ChunkingPolicyTest {

    @Test
    void criuPageFilesAreCutAtEveryPage() {
        for (String name : new String[] {"pages-1.img", "dir/pages-12.img", "a/b/pages-007.img"}) {
            assertTrue(ChunkingPolicy.isPageFile(name), name);
            assertSame(ChunkingPolicy.PAGES, ChunkingPolicy.DEFAULT.cutterFor(name));
        }
    }

    @Test
    void everyOtherFileIsCutByFastCdc() {
        for (String name : new String[] {"pagemap-1.img", "core-1.img", "xpages-1.img", "pages-.img", "pages-1.img.bak",
                "pages-1.img/core-1.img", "pages-1", "pages-a.img", ""}) {
            assertFalse(ChunkingPolicy.isPageFile(name), name);
            assertTrue(ChunkingPolicy.DEFAULT.cutterFor(name).maxBytes() == 256 * 1024, name);
        }
    }
}
