package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.ProgressListener;
import dev.cairn.it.TestCluster;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest buffer against a real 3-node cluster over loopback: a stand-in for criu that sends
 * faster than the store takes its pages gets every answer, the close's too, while the upload is
 * held still; what waits in memory never passes the bound; and a sender that dies midway, with its
 * bytes buffered, still commits nothing.
 */
class IngestBufferTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        Files.createDirectories(dir.resolve("rest"));
        Files.write(dir.resolve("rest").resolve("core-100.img"), new byte[] {1, 2, 3});
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Two tasks, 3,040 pages (12 MiB) in all: more than a put reads before it reports progress. */
    private static PageServerIngestTest.Dump dump() {
        return new PageServerIngestTest.Dump().open(100).present(0x40_0000, 3000, 1, 4)
                .open(101).present(0x1000, 40, 9000, 6).close();
    }

    /** Stands in for criu: sends the whole stream, then reads exactly the answers criu reads (2 opens, the close). */
    private static CompletableFuture<byte[]> criu(int port, byte[] stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.getOutputStream().write(stream);
                s.getOutputStream().flush();
                byte[] answers = new byte[6];
                new DataInputStream(s.getInputStream()).readFully(answers);
                return answers;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Test
    void aFastSenderGetsItsCloseAnsweredWhileTheUploadIsHeld() throws Exception {
        PageServerIngestTest.Dump dump = dump();
        byte[] stream = dump.bytes();
        IngestBuffer buffer = new IngestBuffer(64L << 20);
        AtomicReference<CompletableFuture<byte[]>> sender = new AtomicReference<>();
        AtomicBoolean held = new AtomicBoolean();
        AtomicReference<String> atFirstProgress = new AtomicReference<>();
        ProgressListener progress = (done, total) -> {
            if (held.compareAndSet(false, true)) { // the upload's first step: hold it until criu is done (bounded)
                try {
                    byte[] answers = sender.get().get(20, TimeUnit.SECONDS);
                    atFirstProgress.set("answered " + Arrays.toString(answers) + ", read " + buffer.written()
                            + " bytes, uploaded " + done);
                } catch (Exception e) {
                    atFirstProgress.set("criu was not answered while the upload was held: " + e);
                }
            }
        };
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
            sender.set(criu(listener.port(), stream));
            CriuIngest.ingest(client, "criu/fast", listener.accept(Duration.ofSeconds(10)),
                    () -> CriuIngest.directory(dir.resolve("rest")), PageServerLimits.DEFAULT, progress, buffer);
        }
        assertTrue(atFirstProgress.get().startsWith("answered [0, 0, 0, 0, 0, 0], read " + stream.length + " bytes"),
                atFirstProgress.get());
        Path got = dir.resolve("got-fast");
        client.get("criu/fast", got);
        for (var file : dump.files.entrySet()) {
            assertArrayEquals(file.getValue().toByteArray(), Files.readAllBytes(got.resolve(file.getKey())), file.getKey());
        }
    }

    @Test
    void whatWaitsInMemoryNeverPassesTheBoundAndEveryPageIsStored() throws Exception {
        PageServerIngestTest.Dump dump = dump();
        IngestBuffer buffer = new IngestBuffer(256 * 1024);
        CompletableFuture<byte[]> sender;
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
            sender = criu(listener.port(), dump.bytes());
            CriuIngest.ingest(client, "criu/bounded", listener.accept(Duration.ofSeconds(10)),
                    () -> CriuIngest.directory(dir.resolve("rest")), PageServerLimits.DEFAULT, ProgressListener.NONE, buffer);
        }
        assertArrayEquals(new byte[6], sender.get(30, TimeUnit.SECONDS));
        assertEquals(dump.bytes().length, buffer.written());
        assertTrue(buffer.peak() > 0 && buffer.peak() <= 256 * 1024, "at most " + buffer.peak() + " bytes waited");
        Path got = dir.resolve("got-bounded");
        client.get("criu/bounded", got);
        for (var file : dump.files.entrySet()) {
            assertArrayEquals(file.getValue().toByteArray(), Files.readAllBytes(got.resolve(file.getKey())), file.getKey());
        }
    }

    @Test
    void aSenderThatDiesMidwayWithItsBytesBufferedCommitsNothing() throws Exception {
        byte[] whole = dump().bytes();
        byte[] cut = Arrays.copyOf(whole, 24 + 24 + 2000 * 4096 + 100);
        IngestBuffer buffer = new IngestBuffer(64L << 20);
        AtomicBoolean held = new AtomicBoolean();
        ProgressListener waitForTheEnd = (done, total) -> {
            if (held.compareAndSet(false, true)) { // the upload waits until the pump has seen the connection end
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!buffer.ended() && System.nanoTime() < deadline) { // bounded poll
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        };
        CairnException e;
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0, PageServerLimits.DEFAULT)) {
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                    s.getOutputStream().write(cut);
                } catch (IOException ignored) {
                    // the server may close first
                }
            });
            e = assertThrows(CairnException.class, () -> CriuIngest.ingest(client, "criu/died",
                    listener.accept(Duration.ofSeconds(10)), () -> CriuIngest.directory(dir.resolve("rest")),
                    PageServerLimits.DEFAULT, waitForTheEnd, buffer));
            sender.get(30, TimeUnit.SECONDS);
        }
        assertTrue(buffer.ended(), "the sender's end was read before the upload failed");
        assertTrue(e.getMessage().contains("criu stopped midway"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("criu/died"));
    }
}
