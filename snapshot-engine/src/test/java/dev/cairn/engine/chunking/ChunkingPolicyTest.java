package dev.cairn.engine.chunking;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ChunkingPolicyTest {

    @Test
    void criuPageFilesAreCutAtEveryPage() {
        assertEquals(4096, ChunkingPolicy.chunkSizeFor("pages-1.img"));
        assertEquals(4096, ChunkingPolicy.chunkSizeFor("dir/pages-12.img"));
        assertEquals(4096, ChunkingPolicy.chunkSizeFor("a/b/pages-007.img"));
    }

    @Test
    void everyOtherFileIsCutInto64KiBBlocks() {
        for (String name : new String[] {"pagemap-1.img", "core-1.img", "xpages-1.img", "pages-.img", "pages-1.img.bak",
                "pages-1.img/core-1.img", "pages-1", "pages-a.img"}) {
            assertEquals(65536, ChunkingPolicy.chunkSizeFor(name), name);
        }
    }
}
