package dev.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.HttpLimits;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that stall or stop reading, on a real node with one transfer worker and limits small
 * enough to trip in well under a second: each is cut off, nothing of theirs is committed, and the
 * one worker serves the next request.
 */
class HttpSlowClientTest {

    /** How long a test waits for an answer that must come; the limits under test are far shorter. */
    private static final int ANSWER_WAIT_MILLIS = 20_000;

    @TempDir
    Path dir;

    private static HttpLimits limits(Duration deadline, long minBytesPerSecond, Duration writeIdle) {
        return new HttpLimits(deadline, minBytesPerSecond, Duration.ofMillis(300), writeIdle, Duration.ofSeconds(60), 1);
    }

    @Test
    void aPutWhoseBodyStallsIsCutWith408AndItsWorkerServesTheNextPut() throws Exception {
        HttpLimits limits = limits(Duration.ofSeconds(60), 64 * 1024, Duration.ofSeconds(60));
        try (HttpNode node = HttpNode.start(dir, limits); RawHttp slow = new RawHttp(node.httpPort(), ANSWER_WAIT_MILLIS)) {
            slow.send("PUT /v1/images/slow/stalled HTTP/1.1\r\nHost: node\r\nContent-Length: 1048576\r\n\r\n")
                    .send(new byte[1024]);
            RawHttp.Answer cut = slow.read();
            assertEquals(408, cut.status(), cut.toString());
            assertTrue(cut.body().contains("http.minBytesPerSecond"), cut.body());

            assertEquals(201, putServed(node, "slow/next", 70_000).status());
            assertEquals(List.of("slow/next"), node.images(), "the stalled put committed something");
        }
    }

    @Test
    void aPutThatOutlastsTheRequestDeadlineIsCutWith408() throws Exception {
        HttpLimits limits = limits(Duration.ofMillis(800), 0, Duration.ofSeconds(60)); // no minimum rate
        try (HttpNode node = HttpNode.start(dir, limits); RawHttp slow = new RawHttp(node.httpPort(), ANSWER_WAIT_MILLIS)) {
            slow.send("PUT /v1/images/slow/late HTTP/1.1\r\nHost: node\r\nContent-Length: 4096\r\n\r\n").send(new byte[100]);
            RawHttp.Answer cut = slow.read();
            assertEquals(408, cut.status(), cut.toString());
            assertTrue(cut.body().contains("http.requestDeadlineSeconds"), cut.body());

            assertEquals(201, putServed(node, "slow/next", 5_000).status());
            assertEquals(List.of("slow/next"), node.images());
        }
    }

    @Test
    void aGetWhoseClientStopsReadingIsCutAndItsWorkerServesTheNextRequest() throws Exception {
        HttpLimits limits = limits(Duration.ofSeconds(60), 0, Duration.ofMillis(500));
        byte[] image = new byte[24 << 20]; // far more than the socket buffers and Netty's water marks hold
        new Random(5).nextBytes(image);
        try (HttpNode node = HttpNode.start(dir, limits)) {
            try (CairnClient client = CairnClient.connect(ClientConfig.parse(node.endpoint()))) {
                client.put("big/one", new ByteArrayInputStream(image));
                client.put("small/one", new ByteArrayInputStream(new byte[10]));
            }
            try (RawHttp stopped = new RawHttp(node.httpPort(), ANSWER_WAIT_MILLIS, 4096)) {
                stopped.send("GET /v1/images/big/one HTTP/1.1\r\nHost: node\r\n\r\n"); // and reads nothing

                RawHttp.Answer next = served(node, "GET /v1/images/small/one HTTP/1.1\r\nHost: node\r\n\r\n");
                assertEquals(200, next.status(), next.toString());
                assertTrue(stopped.closedByNode(), "the node kept the stopped reader's connection open");
            }
        }
    }

    @Test
    void aGetWhoseClientReadsTooSlowlyIsCutAndItsWorkerServesTheNextRequest() throws Exception {
        HttpLimits limits = limits(Duration.ofSeconds(60), 1 << 20, Duration.ofSeconds(60)); // 1 MiB/s over 300 ms
        byte[] image = new byte[24 << 20];
        new Random(6).nextBytes(image);
        try (HttpNode node = HttpNode.start(dir, limits)) {
            try (CairnClient client = CairnClient.connect(ClientConfig.parse(node.endpoint()))) {
                client.put("big/one", new ByteArrayInputStream(image));
                client.put("small/one", new ByteArrayInputStream(new byte[10]));
            }
            long read = 0;
            boolean cut = false;
            long deadline = System.nanoTime() + Duration.ofMillis(ANSWER_WAIT_MILLIS).toNanos();
            try (RawHttp trickle = new RawHttp(node.httpPort(), ANSWER_WAIT_MILLIS, 4096)) {
                trickle.send("GET /v1/images/big/one HTTP/1.1\r\nHost: node\r\n\r\n");
                byte[] sip = new byte[1024];
                // The client's own pace, about 50 KiB/s: a slow reader, not a wait for the node.
                while (!cut && System.nanoTime() < deadline) {
                    int n = trickle.input().read(sip);
                    cut = n < 0;
                    read += Math.max(n, 0);
                    Thread.sleep(20);
                }
            } catch (java.io.IOException reset) {
                cut = true; // the node reset the connection
            }
            assertTrue(cut, "the node kept serving a reader at 50 KiB/s for " + ANSWER_WAIT_MILLIS + " ms");
            assertTrue(read < image.length / 2, "the slow reader was served " + read + " bytes");
            assertEquals(200, served(node, "GET /v1/images/small/one HTTP/1.1\r\nHost: node\r\n\r\n").status());
        }
    }

    /** PUTs {@code bytes} zero bytes as {@code name} once the node has a free worker. */
    private static RawHttp.Answer putServed(HttpNode node, String name, int bytes) throws Exception {
        return served(node, "PUT /v1/images/" + name + " HTTP/1.1\r\nHost: node\r\nContent-Length: " + bytes + "\r\n\r\n"
                + "\0".repeat(bytes));
    }

    /**
     * Sends {@code request} until it gets an answer other than 503 (the one worker still busy), for
     * at most {@link #ANSWER_WAIT_MILLIS}: a bounded poll for the freed worker.
     */
    private static RawHttp.Answer served(HttpNode node, String request) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMillis(ANSWER_WAIT_MILLIS).toNanos();
        while (true) {
            try (RawHttp http = new RawHttp(node.httpPort(), ANSWER_WAIT_MILLIS)) {
                RawHttp.Answer answer = http.send(request).read();
                if (answer.status() != 503 || System.nanoTime() > deadline) {
                    return answer;
                }
            }
            Thread.sleep(20); // polling a condition with a deadline
        }
    }
}
