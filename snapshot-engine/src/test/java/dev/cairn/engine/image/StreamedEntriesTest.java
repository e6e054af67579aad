package dev.cairn.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import dev.cairn.engine.manifest.Manifest;
import java.io.ByteArrayInputStream;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamedEntriesTest {

    private static ImageBuilder.StreamedEntry file(String path, int length) {
        return new ImageBuilder.StreamedEntry(path, FileType.REGULAR, 0600, "", new ByteArrayInputStream(new byte[length]));
    }

    private static Manifest build(ImageBuilder.StreamedEntry... entries) throws SourceException {
        Iterator<ImageBuilder.StreamedEntry> it = List.of(entries).iterator();
        try (ChunkPipeline p = new ChunkPipeline(ChunkingPolicy.DEFAULT, 1, false, 1, 2, c -> { })) {
            return new ImageBuilder(p).fromEntries(() -> it.hasNext() ? it.next() : null);
        }
    }

    @Test
    void entriesBecomeADirectoryImageInCanonicalOrderWithTheirParents() throws Exception {
        Manifest m = build(file("sub/core-1.img", 10), file("pages-65537.img", 3 * 4096));

        assertEquals(List.of("pages-65537.img", "sub", "sub/core-1.img"), m.entries().stream().map(FileEntry::path).toList());
        FileEntry pages = m.entries().get(0);
        assertEquals(3, pages.chunks().size(), "a pages file streamed in is cut at every page, as a walked one is");
        assertEquals(0600, pages.mode());
        assertEquals(FileType.DIRECTORY, m.entries().get(1).type());
    }

    @Test
    void aPathTwiceIsRefused() {
        SourceException e = assertThrows(SourceException.class, () -> build(file("a.img", 1), file("a.img", 1)));

        assertTrue(e.getMessage().contains("'a.img': it appears twice"), e.getMessage());
    }

    @Test
    void anUnsafePathIsRefused() {
        SourceException e = assertThrows(SourceException.class, () -> build(file("../escape.img", 1)));

        assertTrue(e.getMessage().startsWith("cannot put entry '../escape.img'"), e.getMessage());
    }
}
