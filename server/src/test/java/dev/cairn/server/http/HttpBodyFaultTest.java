package dev.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Request bodies whose HTTP framing breaks part way, sent over a real socket to a real node. */
class HttpBodyFaultTest {

    @TempDir
    Path dir;

    @Test
    void aChunkedPutWithABadChunkSizeLineIsRefusedAndCommitsNothing() throws Exception {
        byte[] first = new byte[10_000];
        byte[] rest = new byte[5_000];
        new Random(23).nextBytes(first);
        new Random(24).nextBytes(rest);
        try (HttpNode node = HttpNode.start(dir); RawHttp http = new RawHttp(node.httpPort(), 30_000)) {
            http.send("PUT /v1/images/agent/cut HTTP/1.1\r\nHost: node\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .send("2710\r\n").send(first).send("\r\nzz-not-hex\r\n").send(rest).send("\r\n0\r\n\r\n");
            RawHttp.Answer answer = http.read();

            assertEquals(400, answer.status(), answer.toString());
            assertEquals("application/json", answer.headers().get("content-type"));
            String error = new ObjectMapper().readTree(answer.body()).get("error").asText();
            assertTrue(error.contains("chunk"), error);
            assertEquals(List.of(), node.images(), "a body cut by a bad chunk was committed");
            // The put's upload session is closed, not left to its lease: a GC epoch waits for none.
            try (CairnClient client = CairnClient.connect(ClientConfig.parse(node.endpoint()))) {
                assertTrue(CairnAdmin.of(client).gc(Duration.ofMillis(500)).completed(),
                        "the refused put left its upload session open");
            }
        }
    }

    @Test
    void aPutWhoseBodyStopsShortOfItsContentLengthIsRefusedAndCommitsNothing() throws Exception {
        try (HttpNode node = HttpNode.start(dir); RawHttp http = new RawHttp(node.httpPort(), 30_000)) {
            http.send("PUT /v1/images/agent/short HTTP/1.1\r\nHost: node\r\nContent-Length: 20000\r\n\r\n")
                    .send(new byte[12_000]).endOutput();
            RawHttp.Answer answer = http.read();

            assertEquals(400, answer.status(), answer.toString());
            assertTrue(answer.body().contains("ended before its Content-Length"), answer.body());
            assertEquals(List.of(), node.images(), "a body that stopped short was committed");
        }
    }
}
