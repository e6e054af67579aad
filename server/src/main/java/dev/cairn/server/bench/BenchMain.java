package dev.cairn.server.bench;

import dev.cairn.config.ByteSize;

import dev.cairn.engine.ChunkData;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cairn bench ...}: end-to-end benchmarks that compare Cairn with the disk's own limit. */
@Command(name = "cairn bench", mixinStandardHelpOptions = true,
        description = "End-to-end benchmarks, each measured against the disk's own limit in the same run.",
        subcommands = BenchMain.Store.class)
public final class BenchMain implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        return 2;
    }

    /** {@code cairn bench store}: the chunk store's durable append path against raw writes and fdatasync. */
    @Command(name = "store", mixinStandardHelpOptions = true,
            description = {
                "Measures the chunk store's durable append path against the disk's own",
                "limit, in the same run, on the same directory:",
                "A: 16 writers append 64 KiB chunks, each waiting for its ack; baseline:",
                "   the same bytes in sequential 1 MiB writes, one fdatasync at the end.",
                "   ratio = A MB/s / baseline MB/s (target >= 0.8)",
                "B: 64 writers append 4 KiB chunks, each waiting for its ack; baseline:",
                "   sequential 4 KiB writes, each followed by fdatasync.",
                "   smallRatio = B appends/s / baseline writes/s (target >= 20)",
                "bound B: B's 64 waiting writers with no store (hash, then one write and",
                "   one fdatasync per batch): a group commit with nothing else to do,",
                "   to read smallRatio against on this machine.",
                "Chunks are made and hashed before each timed round: only the store's",
                "work is timed (it re-hashes every chunk, as on every PUT)."},
            footer = {"", "Example:", "  cairn bench store --dir /var/lib/cairn --json",
                "  cairn bench store --size 256m      # a quicker run"})
    static final class Store implements Callable<Integer> {

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".",
                description = "a directory on the disk to measure (a scratch subdirectory is created and removed); default: the current directory")
        Path dir;

        @Option(names = "--json", description = "print the figures as one JSON object on the last line")
        boolean json;

        @Option(names = "--size", paramLabel = "BYTES", defaultValue = "1g",
                description = "bytes of workload A and its baseline (suffix k, m, g); default: ${DEFAULT-VALUE}")
        String size;

        @Option(names = "--small-appends", paramLabel = "N", defaultValue = "64000",
                description = "4 KiB appends of workload B; default: ${DEFAULT-VALUE}")
        int smallAppends;

        @Option(names = "--small-baseline-seconds", paramLabel = "S", defaultValue = "5",
                description = "how long the 4 KiB write+fdatasync baseline runs; default: ${DEFAULT-VALUE}")
        int smallBaselineSeconds;

        @Override
        public Integer call() throws Exception {
            long bytes;
            try {
                bytes = parseSize(size);
            } catch (IllegalArgumentException e) {
                System.err.println("cairn bench store: " + e.getMessage());
                return 2;
            }
            if (smallAppends < 64 || smallBaselineSeconds < 1) {
                System.err.println("cairn bench store: --small-appends must be at least 64 and"
                        + " --small-baseline-seconds at least 1");
                return 2;
            }
            Path scratch = dir.resolve("cairn-bench-" + ProcessHandle.current().pid());
            Files.createDirectories(scratch);
            try {
                return run(scratch, bytes);
            } finally {
                deleteRecursively(scratch);
            }
        }

        private int run(Path scratch, long bytes) throws Exception {
            String started = Instant.now().toString();
            log("baseline A: %s in 1 MiB writes, one fdatasync...", human(bytes));
            double baselineSeconds = sequentialWrites(scratch.resolve("baseline-a"), bytes);
            double baselineMBps = bytes / 1e6 / baselineSeconds;

            log("workload A: 16 writers, 64 KiB chunks, %s...", human(bytes));
            Result a = appendWorkload(scratch.resolve("store-a"), 16, 64 * 1024, (int) (bytes / (64 * 1024)));
            double storeMBps = a.bytes() / 1e6 / a.seconds();

            log("baseline B: 4 KiB writes, each followed by fdatasync, for %d s...", smallBaselineSeconds);
            long[] smallBaseline = syncedSmallWrites(scratch.resolve("baseline-b"), smallBaselineSeconds);
            double baselineWritesPerSec = smallBaseline[0] / (smallBaseline[1] / 1e9);

            log("workload B: 64 writers, 4 KiB chunks, %d appends...", smallAppends);
            Result b = appendWorkload(scratch.resolve("store-b"), 64, 4096, smallAppends);
            double appendsPerSec = b.appends() / b.seconds();

            log("bound B: the same 64 waiting writers with no store: hash, one write + fdatasync per batch...");
            double boundPerSec = waitingWritersBound(scratch.resolve("bound-b"), 64, smallAppends);

            double ratio = storeMBps / baselineMBps;
            double smallRatio = appendsPerSec / baselineWritesPerSec;
            double smallRatioBound = boundPerSec / baselineWritesPerSec;
            System.out.printf(Locale.ROOT, "workload A  %10.1f MB/s   baseline %10.1f MB/s   ratio      %6.2f  (target >= 0.8)"
                    + "   %d appends, %d fdatasyncs%n", storeMBps, baselineMBps, ratio, a.appends(), a.syncs());
            System.out.printf(Locale.ROOT, "workload B  %10.0f /s     baseline %10.0f /s     smallRatio %6.1f  (target >= 20)"
                    + "   %d appends, %d fdatasyncs%n", appendsPerSec, baselineWritesPerSec, smallRatio, b.appends(), b.syncs());
            System.out.printf(Locale.ROOT, "bound B     %10.0f /s     (B's writers, no store: hash, write, fdatasync)   smallRatio %6.1f%n",
                    boundPerSec, smallRatioBound);
            if (json) {
                System.out.printf(Locale.ROOT, "{\"ratio\":%.3f,\"smallRatio\":%.2f,\"storeMBps\":%.1f,\"baselineMBps\":%.1f,"
                                + "\"storeAppendsPerSec\":%.0f,\"baselineSyncedWritesPerSec\":%.0f,\"bytesA\":%d,"
                                + "\"appendsA\":%d,\"fdatasyncsA\":%d,\"secondsA\":%.3f,\"baselineSecondsA\":%.3f,"
                                + "\"appendsB\":%d,\"fdatasyncsB\":%d,\"secondsB\":%.3f,\"baselineWritesB\":%d,"
                                + "\"baselineSecondsB\":%.3f,\"writersA\":16,\"chunkBytesA\":65536,\"writersB\":64,"
                                + "\"chunkBytesB\":4096,\"boundAppendsPerSec\":%.0f,\"smallRatioBound\":%.2f,\"started\":\"%s\"}%n",
                        ratio, smallRatio, storeMBps, baselineMBps, appendsPerSec, baselineWritesPerSec, a.bytes(),
                        a.appends(), a.syncs(), a.seconds(), baselineSeconds, b.appends(), b.syncs(), b.seconds(),
                        smallBaseline[0], smallBaseline[1] / 1e9, boundPerSec, smallRatioBound, started);
            }
            return 0;
        }
    }

    private record Result(long appends, long bytes, long syncs, double seconds) {}

    /** Chunks generated and hashed per untimed round; bounds the memory of the generator. */
    private static final long ROUND_BYTES = 128L * 1024 * 1024;

    /**
     * {@code writers} threads append {@code total} distinct chunks of {@code chunkBytes}, one per call,
     * each waiting for its acknowledgement. Only the appends are timed, in rounds of pre-generated chunks.
     */
    private static Result appendWorkload(Path storeDir, int writers, int chunkBytes, int total) throws Exception {
        SplittableRandom random = new SplittableRandom(chunkBytes);
        byte[] base = new byte[chunkBytes];
        for (int i = 0; i < base.length; i += 8) {
            ByteBuffer.wrap(base, i, Math.min(8, base.length - i)).putLong(0, random.nextLong());
        }
        int perRound = (int) Math.max(writers, ROUND_BYTES / chunkBytes);
        long nanos = 0;
        long appended = 0;
        try (ChunkStore store = ChunkStore.open(storeDir, ChunkStoreOptions.defaults())) {
            for (int next = 0; next < total; ) {
                int count = Math.min(perRound, total - next);
                List<ChunkData> chunks = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    byte[] bytes = base.clone();
                    // Distinct chunks: a unique counter and a random word at the front.
                    ByteBuffer.wrap(bytes).putLong(0, next + i).putLong(8, random.nextLong());
                    chunks.add(ChunkData.raw(bytes));
                }
                nanos += appendRound(store, writers, chunks);
                appended += count;
                next += count;
            }
            return new Result(appended, appended * chunkBytes, store.syncCount(), nanos / 1e9);
        }
    }

    private static long appendRound(ChunkStore store, int writers, List<ChunkData> chunks) throws InterruptedException {
        return timeWriters(writers, chunks.size(), "bench-writer", i -> store.append(List.of(chunks.get(i))).join());
    }

    /** One waiting writer's step: the {@code i}-th operation of the round, returning when it is acknowledged. */
    private interface Step {
        void run(int i) throws Exception;
    }

    /**
     * Nanoseconds for {@code writers} threads, released together, to run steps 0 to {@code total - 1}
     * between them, each thread taking the next step when its last one returns.
     */
    private static long timeWriters(int writers, int total, String name, Step step) throws InterruptedException {
        AtomicInteger cursor = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(writers);
        Throwable[] failure = new Throwable[1];
        for (int w = 0; w < writers; w++) {
            Thread writer = new Thread(() -> {
                try {
                    start.await();
                    for (int i = cursor.getAndIncrement(); i < total; i = cursor.getAndIncrement()) {
                        step.run(i);
                    }
                } catch (Throwable t) {
                    synchronized (failure) {
                        failure[0] = t;
                    }
                } finally {
                    done.countDown();
                }
            }, name + "-" + w);
            writer.start();
        }
        long t0 = System.nanoTime();
        start.countDown();
        done.await();
        long elapsed = System.nanoTime() - t0;
        synchronized (failure) {
            if (failure[0] != null) {
                throw new IllegalStateException("a writer failed: " + failure[0], failure[0]);
            }
        }
        return elapsed;
    }

    /**
     * Appends/s of workload B's shape with no store at all: {@code writers} threads each hash a 4 KiB
     * page (as the store verifies every chunk), hand it to one committer thread and wait; the
     * committer takes everything queued, writes it with one write, fdatasyncs, and wakes the
     * writers. No index, no record format, no dedup: what this machine's thread wake-ups, hashing
     * and fdatasync allow a one-thread group commit, so that smallRatio can be read against it.
     */
    private static double waitingWritersBound(Path file, int writers, int total) throws Exception {
        record Waiting(ByteBuffer page, CompletableFuture<Void> acked) {}
        LinkedBlockingQueue<Waiting> queue = new LinkedBlockingQueue<>();
        Thread committer;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            committer = new Thread(() -> {
                List<Waiting> batch = new ArrayList<>();
                try {
                    while (true) {
                        batch.add(queue.take());
                        queue.drainTo(batch);
                        ByteBuffer[] pages = new ByteBuffer[batch.size()];
                        for (int i = 0; i < pages.length; i++) {
                            pages[i] = batch.get(i).page().duplicate();
                        }
                        while (pages[pages.length - 1].hasRemaining()) {
                            channel.write(pages);
                        }
                        channel.force(false);
                        batch.forEach(w -> w.acked().complete(null));
                        batch.clear();
                    }
                } catch (InterruptedException e) {
                    batch.forEach(w -> w.acked().cancel(false));
                } catch (IOException e) {
                    batch.forEach(w -> w.acked().completeExceptionally(e));
                }
            }, "bench-bound-committer");
            committer.start();
            try {
                byte[] page = new byte[4096];
                new SplittableRandom(4096).nextBytes(page);
                ByteBuffer shared = ByteBuffer.wrap(page).asReadOnlyBuffer();
                ThreadLocal<MessageDigest> sha = ThreadLocal.withInitial(() -> {
                    try {
                        return MessageDigest.getInstance("SHA-256");
                    } catch (java.security.NoSuchAlgorithmException e) {
                        throw new IllegalStateException(e);
                    }
                });
                long nanos = timeWriters(writers, total, "bench-bound-writer", i -> {
                    sha.get().digest(page);
                    CompletableFuture<Void> acked = new CompletableFuture<>();
                    queue.add(new Waiting(shared, acked));
                    acked.join();
                });
                return total / (nanos / 1e9);
            } finally {
                committer.interrupt();
                committer.join();
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Seconds to write {@code bytes} in 1 MiB writes and fdatasync once. */
    private static double sequentialWrites(Path file, long bytes) throws IOException {
        ByteBuffer block = ByteBuffer.allocateDirect(1024 * 1024);
        SplittableRandom random = new SplittableRandom(1);
        while (block.remaining() >= 8) {
            block.putLong(random.nextLong());
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long t0 = System.nanoTime();
            for (long written = 0; written < bytes; ) {
                block.clear();
                block.limit((int) Math.min(block.capacity(), bytes - written));
                while (block.hasRemaining()) {
                    written += channel.write(block);
                }
            }
            channel.force(false);
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** {writes, nanos}: sequential 4 KiB writes, each followed by fdatasync, for about {@code seconds}. */
    private static long[] syncedSmallWrites(Path file, int seconds) throws IOException {
        ByteBuffer block = ByteBuffer.allocateDirect(4096);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long t0 = System.nanoTime();
            long end = t0 + seconds * 1_000_000_000L;
            long writes = 0;
            long now;
            do {
                block.clear();
                block.putLong(0, writes);
                while (block.hasRemaining()) {
                    channel.write(block);
                }
                channel.force(false);
                writes++;
                now = System.nanoTime();
            } while (now < end);
            return new long[] {writes, now - t0};
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** {@code --size} as {@link ByteSize} reads it, between 16 MiB and 1 TiB. */
    static long parseSize(String text) {
        long value;
        try {
            value = ByteSize.parse("--size", text);
        } catch (dev.cairn.config.ConfigException e) {
            throw new IllegalArgumentException("--size must be a number of bytes with an optional k, m or g suffix, got '"
                    + text + "'");
        }
        if (value < 16L * 1024 * 1024 || value > (1L << 40)) {
            throw new IllegalArgumentException("--size must be between 16m and 1024g, got '" + text + "'");
        }
        return value;
    }

    private static String human(long bytes) {
        return bytes % (1024L * 1024 * 1024) == 0 ? bytes / (1024L * 1024 * 1024) + " GiB" : bytes / (1024 * 1024) + " MiB";
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "cairn bench: " + format + "%n", args);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    public static void main(String[] args) {
        int code = new CommandLine(new BenchMain()).execute(args);
        System.exit(code);
    }
}
