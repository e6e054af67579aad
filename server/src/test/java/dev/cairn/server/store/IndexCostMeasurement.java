package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * Measures what the RocksDB index costs per 4 KiB chunk: write time, lookup time (hit and miss),
 * and bytes on disk. Not a test (no assertions on time); run it by hand and copy the output into
 * docs/store.md. Arguments: a scratch directory, the number of index entries, the number of
 * chunks for the end-to-end store run.
 */
public final class IndexCostMeasurement {

    private static final int BATCH = 256;

    public static void main(String[] args) throws Exception {
        Path scratch = Path.of(args[0]);
        int entries = Integer.parseInt(args[1]);
        int storeChunks = Integer.parseInt(args[2]);
        indexOnly(scratch.resolve("index-only"), entries);
        endToEnd(scratch.resolve("store"), storeChunks);
    }

    private static void indexOnly(Path dir, int entries) throws IOException {
        Random random = new Random(42);
        List<ChunkId> all = new ArrayList<>(entries);
        long writeNanos = 0;
        try (ChunkIndex index = ChunkIndex.open(dir)) {
            long offset = 0;
            for (int i = 0; i < entries; i += BATCH) {
                List<ChunkId> ids = new ArrayList<>(BATCH);
                List<ChunkIndex.Location> locations = new ArrayList<>(BATCH);
                for (int j = 0; j < BATCH && i + j < entries; j++) {
                    byte[] digest = new byte[32];
                    random.nextBytes(digest);
                    ids.add(ChunkId.fromBytes(digest));
                    locations.add(new ChunkIndex.Location((int) (offset >>> 28) + 1, offset & ((1 << 28) - 1),
                            TestChunks.RECORD));
                    offset += TestChunks.RECORD;
                }
                all.addAll(ids);
                long start = System.nanoTime();
                index.put(ids, locations, new ChunkIndex.Checkpoint(1, offset));
                writeNanos += System.nanoTime() - start;
            }
            index.flush();
            long hitNanos = timeLookups(index, all, random, false);
            long missNanos = timeLookups(index, all, random, true);
            long sstBytes = bytesOf(dir, ".sst");
            long allBytes = bytesOf(dir, "");
            System.out.printf("index only, %d entries, batches of %d:%n", entries, BATCH);
            System.out.printf("  write      %.2f us/chunk (WAL, no sync)%n", writeNanos / 1e3 / entries);
            System.out.printf("  get, hit   %.2f us/chunk%n", hitNanos / 1e3 / 100_000);
            System.out.printf("  get, miss  %.2f us/chunk%n", missNanos / 1e3 / 100_000);
            System.out.printf("  SST bytes  %.1f B/chunk (%.2f%% of a 4 KiB chunk); whole index dir %.1f B/chunk%n",
                    (double) sstBytes / entries, 100.0 * sstBytes / entries / 4096, (double) allBytes / entries);
        }
    }

    private static long timeLookups(ChunkIndex index, List<ChunkId> all, Random random, boolean miss)
            throws IOException {
        List<ChunkId> probes = new ArrayList<>(100_000);
        for (int i = 0; i < 100_000; i++) {
            if (miss) {
                byte[] digest = new byte[32];
                random.nextBytes(digest);
                probes.add(ChunkId.fromBytes(digest));
            } else {
                probes.add(all.get(random.nextInt(all.size())));
            }
        }
        long start = System.nanoTime();
        int found = 0;
        for (ChunkId id : probes) {
            if (index.get(id) != null) {
                found++;
            }
        }
        long nanos = System.nanoTime() - start;
        if (found != (miss ? 0 : probes.size())) {
            throw new IllegalStateException("lookups found " + found);
        }
        return nanos;
    }

    private static void endToEnd(Path dir, int chunks) throws Exception {
        List<ChunkData> data = TestChunks.pages(7, chunks);
        long start = System.nanoTime();
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int i = 0; i < chunks; i += BATCH) {
                futures.add(store.append(data.subList(i, Math.min(chunks, i + BATCH))));
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).join();
            long nanos = System.nanoTime() - start;
            System.out.printf("store, %d chunks of 4 KiB appended in calls of %d: %d fsyncs, %.1f us/chunk end to end,"
                    + " of which index writes %.2f us/chunk (%.1f%%)%n", chunks, BATCH, store.syncCount(),
                    nanos / 1e3 / chunks, store.indexWriteNanos() / 1e3 / chunks,
                    100.0 * store.indexWriteNanos() / nanos);
        }
    }

    private static long bytesOf(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(suffix))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
