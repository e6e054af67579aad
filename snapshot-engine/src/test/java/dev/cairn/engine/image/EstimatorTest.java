package dev.cairn.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.chunking.ChunkingPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EstimatorTest {

    @TempDir
    Path dir;

    /** {@code count} pages of random bytes that differ from each other in a few bytes only. */
    private static List<byte[]> similarPages(int count, long seed) {
        Random random = new Random(seed);
        byte[] base = new byte[4096];
        random.nextBytes(base);
        List<byte[]> pages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] page = base.clone();
            for (int k = 0; k < 16; k++) {
                page[random.nextInt(page.length)] = (byte) random.nextInt();
            }
            pages.add(page);
        }
        return pages;
    }

    private Path image(String name, List<byte[]> pages) throws IOException {
        Path image = Files.createDirectories(dir.resolve(name));
        byte[] all = new byte[pages.size() * 4096];
        for (int i = 0; i < pages.size(); i++) {
            System.arraycopy(pages.get(i), 0, all, i * 4096, 4096);
        }
        Files.write(image.resolve("pages-1.img"), all);
        return image;
    }

    private static Estimator.Result estimate(int threads, Path... images) throws SourceException {
        try (Estimator estimator = new Estimator(ChunkingPolicy.DEFAULT, ChunkEncoder.DEFAULT_LEVEL, threads)) {
            for (Path image : images) {
                estimator.add(image);
            }
            return estimator.result();
        }
    }

    @Test
    void distinctPagesAreEstimatedAsOnePackNotOneByOne() throws Exception {
        List<byte[]> pages = similarPages(16, 1);
        Estimator.Result r = estimate(2, image("a", pages));
        long alone = 0;
        List<ChunkData> raw = new ArrayList<>();
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            for (byte[] page : pages) {
                alone += encoder.encode(page, 0, page.length).storedLength();
                raw.add(ChunkData.raw(page));
            }
            ChunkPack pack = encoder.encodePack(raw);
            assertNotNull(pack);
            assertEquals(17, r.uniqueChunks(), "sixteen pages and one manifest chunk");
            // The rest is the manifest chunk (sixteen chunk ids and little else), at most its raw bytes.
            long manifest = r.storedBytes() - pack.storedLength();
            assertTrue(manifest > 0 && manifest <= r.uniqueBytes() - 16 * 4096,
                    "stored " + r.storedBytes() + ", pack " + pack.storedLength() + ", unique " + r.uniqueBytes());
            assertTrue(r.storedBytes() < alone / 4, "stored " + r.storedBytes() + ", pages one by one " + alone);
        }
    }

    @Test
    void theEstimateDoesNotDependOnHowManyThreadsRaceToSeeAPageFirst() throws Exception {
        // Eight batches of pages drawn from a pool: a page repeats across batches the workers hash at once.
        List<byte[]> pool = similarPages(400, 2);
        Random random = new Random(3);
        List<byte[]> pages = new ArrayList<>();
        for (int i = 0; i < 2048; i++) {
            pages.add(pool.get(random.nextInt(pool.size())));
        }
        Path a = image("a", pages);
        Path b = image("b", similarPages(40, 4));
        Estimator.Result one = estimate(1, a, b);
        for (int run = 0; run < 3; run++) {
            assertEquals(one, estimate(4, a, b), "run " + run);
        }
        assertTrue(one.uniqueChunks() > 400 + 40, "the pool, the second image's pages and the manifest chunks");
    }
}
