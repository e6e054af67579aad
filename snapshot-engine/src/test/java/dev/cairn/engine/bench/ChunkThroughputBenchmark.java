package dev.cairn.engine.bench;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.chunking.ChunkingPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Per-core cost of what the client does to every byte it puts (cut, SHA-256, zstd) against
 * SHA-256 alone over the same bytes, in the same run, on one thread. The figure that matters is
 * the ratio of the two throughputs (docs/benchmarks.md, "Snapshot engine").
 *
 * <p>{@code input}: {@code pages} cuts 4 KiB pages, {@code cdc} cuts FastCDC chunks. The bytes
 * are 64 MiB made of a third zero-ish pages, a third random pages and a third low-entropy pages,
 * or the file named by {@code -Dcairn.bench.file=...} (a CRIU pages-*.img, say).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ChunkThroughputBenchmark {

    static final int BYTES = 64 * 1024 * 1024;

    @Param({"pages", "cdc"})
    public String input;

    /** zstd level; the default of the product is 3. */
    @Param({"3"})
    public int level;

    private byte[] data;
    private ChunkingPolicy.Cutter cutter;
    private ChunkEncoder encoder;
    private MessageDigest sha256;

    @Setup(Level.Trial)
    public void setUp() throws IOException, NoSuchAlgorithmException {
        String file = System.getProperty("cairn.bench.file");
        data = file != null ? Files.readAllBytes(Path.of(file)) : mixedPages(BYTES, 1);
        cutter = input.equals("pages") ? ChunkingPolicy.PAGES : ChunkingPolicy.DEFAULT.cutterFor("core-1.img");
        encoder = new ChunkEncoder(level);
        sha256 = MessageDigest.getInstance("SHA-256");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        encoder.close();
    }

    static byte[] mixedPages(int length, long seed) {
        Random random = new Random(seed);
        byte[] b = new byte[length];
        for (int page = 0; page < length / 4096; page++) {
            int at = page * 4096;
            switch (page % 3) {
                case 0 -> b[at + random.nextInt(4096)] = (byte) random.nextInt();
                case 1 -> {
                    for (int i = 0; i < 4096; i++) {
                        b[at + i] = (byte) random.nextInt();
                    }
                }
                default -> {
                    for (int i = 0; i < 4096; i++) {
                        b[at + i] = (byte) ('a' + random.nextInt(6));
                    }
                }
            }
        }
        return b;
    }

    /** Cut, hash and compress every chunk: the client's per-byte work. Returns bytes stored. */
    @Benchmark
    public long chunkHashCompress(Blackhole bh) {
        long stored = 0;
        int offset = 0;
        while (offset < data.length) {
            int n = cutter.cut(data, offset, data.length - offset);
            ChunkData c = encoder.encode(data, offset, n);
            stored += c.storedLength();
            bh.consume(c);
            offset += n;
        }
        return stored;
    }

    /** SHA-256 alone over the same bytes: the floor every content-addressed store pays. */
    @Benchmark
    public byte[] sha256Only() {
        sha256.reset();
        sha256.update(data);
        return sha256.digest();
    }

    /** Cut and hash, without compression, to see where the time goes. */
    @Benchmark
    public void chunkHash(Blackhole bh) {
        int offset = 0;
        while (offset < data.length) {
            int n = cutter.cut(data, offset, data.length - offset);
            bh.consume(ChunkId.of(data, offset, n));
            offset += n;
        }
    }
}
