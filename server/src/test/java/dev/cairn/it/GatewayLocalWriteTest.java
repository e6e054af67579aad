package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's HTTP gateway stores its own node's copies of a put in process: it sends that node no
 * HAS, PUT_CHUNKS or PUT_PACKS over the network, the node still ends up with every chunk, and the
 * image reads back whole.
 */
class GatewayLocalWriteTest {

    private static final String[] CHUNK_REQUESTS = {"has_chunks", "put_chunks", "put_packs"};

    @TempDir
    Path dir;

    @Test
    void aGatewayPutStoresItsOwnNodesCopiesInProcess() throws Exception {
        // Distinct compressible pages travel in packs; a random file is cut into chunks sent alone.
        Path src = Files.createDirectories(dir.resolve("src"));
        ByteBuffer pages = ByteBuffer.allocate(512 * 4096);
        for (int page = 0; page < 512; page++) {
            for (int i = 0; i < 4096; i += 8) {
                pages.putLong(page * 1_000_003L + i / 64);
            }
        }
        Files.write(src.resolve("pages-1.img"), pages.array());
        Files.write(src.resolve("core-1.img"), TestImages.random(5, 3 * 1024 * 1024 + 17));
        byte[] tar = Processes.run(dir, "tar", "-c", "-C", src.toString(), ".");

        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster"))) {
            String url = "http://127.0.0.1:" + cluster.config(0).self().httpPort() + "/v1/images/agent/written";
            HttpClient http = HttpClient.newHttpClient();
            long[][] before = chunkRequestsServed(cluster);
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-tar")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(tar)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, put.statusCode(), put.body());

            // N = 3 on three nodes: each holds every chunk once its last store is durable. The put
            // answered after two of them, so the third may still be writing.
            assertTrue(cluster.awaitSameChunkCounts(Duration.ofSeconds(30)), "every node holds every chunk");
            assertTrue(cluster.server(0).store().chunkCount() > 512, "the pages and the core file's chunks are on node-1");

            long[][] after = chunkRequestsServed(cluster);
            for (int r = 0; r < CHUNK_REQUESTS.length; r++) {
                assertEquals(before[0][r], after[0][r], "node-1 was sent no " + CHUNK_REQUESTS[r]);
            }
            for (int node = 1; node < 3; node++) {
                for (int r = 0; r < CHUNK_REQUESTS.length; r++) {
                    assertTrue(after[node][r] > before[node][r], "node-" + (node + 1) + " was sent " + CHUNK_REQUESTS[r]);
                }
            }

            Trees.assertSameTree(src, HttpEndpointsTest.getTar(http, url, dir));
        }
    }

    /** Per node, the HAS_CHUNKS, PUT_CHUNKS and PUT_PACKS requests it has answered over its protocol port. */
    private static long[][] chunkRequestsServed(TestCluster cluster) {
        long[][] served = new long[3][CHUNK_REQUESTS.length];
        for (int node = 0; node < 3; node++) {
            for (int r = 0; r < CHUNK_REQUESTS.length; r++) {
                served[node][r] = cluster.server(node).metrics().registry()
                        .timer("cairn_request_" + CHUNK_REQUESTS[r] + "_seconds").getCount();
            }
        }
        return served;
    }
}
