package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.config.ConfigFiles;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB body streamed to {@code PUT /v1/images/{name}} of a node that runs as its own
 * {@code cairn server} process with the heap and collector {@code bin/cairn} give a node, then read back with
 * GET and compared by SHA-256. A node that buffered the body would run out of its heap (the child
 * exits on OutOfMemoryError); the test also samples the node's heap gauges while the body flows.
 */
class HttpLargePutTest {

    static final long GIB = 1L << 30;
    /** Bytes of each generated block: the first half random, the second half zeros (about 2:1 for zstd). */
    static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void aOneGibPutOverHttpStreamsThroughANodeWithTheDefaultHeapAndReadsBackExactly() throws Exception {
        String heap = defaultServerHeap();
        int protocolPort = TestPorts.free();
        int httpPort = TestPorts.free();
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", protocolPort, TestPorts.free(), httpPort);
        NodeConfig config = new NodeConfig("node-1", dir.resolve("data"), Quorum.defaultFor(1), List.of(self), Limits.defaults());
        Path configFile = dir.resolve("cairn.yaml");
        ConfigFiles.writeNode(config, configFile);
        Path log = dir.resolve("server.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process server = new ProcessBuilder(java, "-Xmx" + heap, binCairnSetting("DEFAULT_SERVER_GC"),
                "-XX:+ExitOnOutOfMemoryError", "-Djava.io.tmpdir=" + dir, // RocksDB's library copy goes with the test
                "-cp", System.getProperty("java.class.path"), "dev.cairn.server.ServerMain", "--config", configFile.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HeapSampler sampler = null;
        try {
            String base = "http://127.0.0.1:" + httpPort;
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
            awaitHealthy(http, base, server, log);

            sampler = new HeapSampler(http, base, server.pid());
            sampler.start();
            GeneratedBody body = new GeneratedBody(42, GIB);
            long start = System.nanoTime();
            // ofInputStream has no length: the body goes with chunked transfer encoding.
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/images/big/over-http"))
                    .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> body)).build(), HttpResponse.BodyHandlers.ofString());
            double putSeconds = (System.nanoTime() - start) / 1e9;
            sampler.stop();
            assertTrue(server.isAlive(), "the node died during the put (heap -Xmx" + heap + "); see " + log);
            assertEquals(201, put.statusCode(), put.body());
            JsonNode p = new ObjectMapper().readTree(put.body());
            assertEquals(GIB, p.get("logicalBytes").asLong());
            assertEquals(GIB, body.produced());

            start = System.nanoTime();
            HttpResponse<InputStream> get = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/images/big/over-http")).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, get.statusCode());
            MessageDigest back = MessageDigest.getInstance("SHA-256");
            long length = 0;
            try (InputStream in = get.body()) {
                byte[] buffer = new byte[1 << 20];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    back.update(buffer, 0, n);
                    length += n;
                }
            }
            double getSeconds = (System.nanoTime() - start) / 1e9;
            assertEquals(GIB, length);
            assertEquals(HexFormat.of().formatHex(body.digest()), HexFormat.of().formatHex(back.digest()),
                    "the GET returned other bytes than the PUT sent");

            System.out.printf("1 GiB HTTP PUT to a node with -Xmx%s: %.1f s (%.0f MiB/s), GET %.1f s (%.0f MiB/s);"
                            + " node heap used at most %d MiB, live after a full GC at most %d MiB (%d samples); put %s%n",
                    heap, putSeconds, 1024 / putSeconds, getSeconds, 1024 / getSeconds, sampler.maxUsed() >> 20,
                    sampler.maxLive() >> 20, sampler.samples(), put.body());
            assertTrue(sampler.samples() > 0, "the node's heap was never sampled");
            // The live set after collections stays far below the body: nothing holds on to it.
            assertTrue(sampler.maxLive() < 256L << 20, "live heap after a full GC reached " + (sampler.maxLive() >> 20) + " MiB");
        } finally {
            if (sampler != null) {
                sampler.stop();
            }
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** The node heap bin/cairn passes to {@code cairn server}: one place decides it. */
    static String defaultServerHeap() throws IOException {
        return binCairnSetting("DEFAULT_SERVER_HEAP");
    }

    /** A setting bin/cairn gives {@code cairn server}, such as its collector. */
    static String binCairnSetting(String name) throws IOException {
        Path script = Path.of(System.getProperty("user.dir")).resolveSibling("bin").resolve("cairn");
        Matcher m = Pattern.compile("(?m)^" + name + "=(\\S+)$").matcher(Files.readString(script));
        assertTrue(m.find(), "bin/cairn sets no " + name + " for cairn server");
        return m.group(1);
    }

    private static void awaitHealthy(HttpClient http, String base, Process server, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            assertTrue(server.isAlive(), "the node exited while starting; see " + log);
            try {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/admin/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            }
            assertTrue(System.nanoTime() < deadline, "the node was not healthy within 90 s; see " + log);
            Thread.sleep(200);
        }
    }


    /**
     * {@code length} seeded bytes, made as they are read (the test holds no more than a block),
     * hashed on the way out.
     */
    static final class GeneratedBody extends InputStream {
        private final SplittableRandom random;
        private final long length;
        private final MessageDigest digest;
        private final byte[] block = new byte[BLOCK];
        private int blockPos = BLOCK;
        private long produced;

        GeneratedBody(long seed, long length) throws Exception {
            this.random = new SplittableRandom(seed);
            this.length = length;
            this.digest = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (produced == length) {
                return -1;
            }
            if (blockPos == BLOCK) {
                for (int i = 0; i < BLOCK / 2; i += 8) {
                    long v = random.nextLong();
                    for (int k = 0; k < 8; k++) {
                        block[i + k] = (byte) (v >>> (8 * k));
                    }
                }
                blockPos = 0;
            }
            int n = (int) Math.min(Math.min(len, BLOCK - blockPos), length - produced);
            System.arraycopy(block, blockPos, b, off, n);
            digest.update(block, blockPos, n);
            blockPos += n;
            produced += n;
            return n;
        }

        long produced() {
            return produced;
        }

        byte[] digest() {
            return digest.digest();
        }
    }

    /**
     * Has the node collect its whole heap (jcmd GC.run) and reads its heap gauges from /metrics
     * right after, over and over, keeping the highest. Without the full collection the "live after
     * GC" gauge is what G1 left after its last young collection, which counts the garbage promoted
     * since the last mixed one: with a 512 MiB heap it read 78-280 MiB in eight runs of this test,
     * while full collections forced during such runs left 5-40 MiB of byte arrays (once 147).
     */
    static final class HeapSampler {
        private final HttpClient http;
        private final String base;
        private final long pid;
        private final AtomicLong maxUsed = new AtomicLong();
        private final AtomicLong maxLive = new AtomicLong();
        private final AtomicLong samples = new AtomicLong();
        private volatile boolean stopped;
        private final Thread thread;

        HeapSampler(HttpClient http, String base, long pid) {
            this.http = http;
            this.base = base;
            this.pid = pid;
            this.thread = new Thread(this::run, "heap-sampler");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            stopped = true;
            thread.join(10_000);
        }

        private void run() {
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            while (!stopped) {
                try {
                    Process gc = new ProcessBuilder(jcmd, Long.toString(pid), "GC.run")
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    if (gc.waitFor() != 0) {
                        continue; // the node is exiting; the test's own checks say why
                    }
                    String text = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                            HttpResponse.BodyHandlers.ofString()).body();
                    maxUsed.accumulateAndGet(gauge(text, "cairn_jvm_heap_used_bytes"), Math::max);
                    maxLive.accumulateAndGet(gauge(text, "cairn_jvm_heap_live_after_gc_bytes"), Math::max);
                    samples.incrementAndGet();
                } catch (IOException e) {
                    // a busy node may refuse (503) or drop one scrape; the next one counts
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private static long gauge(String text, String name) {
            return text.lines().filter(l -> l.startsWith(name + " "))
                    .mapToLong(l -> (long) Double.parseDouble(l.substring(name.length() + 1).trim())).findFirst().orElse(0);
        }

        long maxUsed() {
            return maxUsed.get();
        }

        long maxLive() {
            return maxLive.get();
        }

        long samples() {
            return samples.get();
        }
    }
}
