package dev.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.HttpLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.maxConnections} on a real node: connections beyond the cap are closed as they
 * arrive, before a byte of theirs is read, and counted; once one closes, a new request is served.
 */
class HttpConnectionCapTest {

    /** How long a test waits for what must happen; the node closes a refused connection at once. */
    private static final int WAIT_MILLIS = 10_000;

    private static final String HEALTH = "GET /v1/admin/health HTTP/1.1\r\nHost: node\r\n\r\n";

    @TempDir
    Path dir;

    @Test
    void aConnectionBeyondTheCapIsClosedUnreadAndCountedAndOneClosingMakesRoom() throws Exception {
        try (HttpNode node = HttpNode.start(dir, HttpLimits.defaults().withMaxConnections(2));
             RawHttp first = new RawHttp(node.httpPort(), WAIT_MILLIS);
             RawHttp second = new RawHttp(node.httpPort(), WAIT_MILLIS)) {
            // Two connections that send nothing hold the cap, as a client flooding the port would.
            try (RawHttp third = new RawHttp(node.httpPort(), WAIT_MILLIS)) {
                assertEquals(-1, statusOrClosed(third), "a connection beyond http.maxConnections was served");
            }
            assertTrue(refused(node) >= 1, "the refusal was not counted in cairn_http_connections_refused");

            first.close();
            RawHttp.Answer answer = servedOnceRoomIsMade(node);
            assertEquals(200, answer.status(), answer.toString());
        }
    }

    /** Retries (bounded) until the node has seen the closed connection go and serves a new one. */
    private static RawHttp.Answer servedOnceRoomIsMade(HttpNode node) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMillis(WAIT_MILLIS).toNanos();
        while (true) {
            try (RawHttp next = new RawHttp(node.httpPort(), WAIT_MILLIS)) {
                RawHttp.Answer answer = next.send(HEALTH).read();
                if (answer.status() != -1 || System.nanoTime() > deadline) {
                    return answer;
                }
            } catch (IOException e) { // reset by the node while it still counts the closed one
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            Thread.sleep(10); // polling a condition with a deadline
        }
    }

    /**
     * The status of the answer to a health request: -1 when the node closed or reset the connection
     * instead, -2 when it stayed silent for the whole wait.
     */
    private static int statusOrClosed(RawHttp connection) {
        try {
            return connection.send(HEALTH).read().status();
        } catch (java.net.SocketTimeoutException e) {
            return -2;
        } catch (IOException e) {
            return -1;
        }
    }

    private static long refused(HttpNode node) {
        return node.server().metrics().registry().meter("cairn_http_connections_refused").getCount();
    }
}
