package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** Deterministic test chunks and helpers over a store directory. */
final class TestChunks {

    static final int PAGE = 4096;
    static final int RECORD = SegmentRecord.HEADER_BYTES + PAGE;

    private TestChunks() {}

    /** {@code count} distinct raw 4 KiB chunks, the same for the same seed. */
    static List<ChunkData> pages(long seed, int count) {
        Random random = new Random(seed);
        List<ChunkData> chunks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] bytes = new byte[PAGE];
            random.nextBytes(bytes);
            chunks.add(ChunkData.raw(bytes));
        }
        return chunks;
    }

    static byte[] bytesOf(ChunkData chunk) {
        byte[] b = new byte[chunk.storedLength()];
        chunk.bytes().duplicate().get(b);
        return b;
    }

    static Path segment(Path storeDir, int number) {
        return storeDir.resolve("segments").resolve(SegmentRecord.fileName(number));
    }

    static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
