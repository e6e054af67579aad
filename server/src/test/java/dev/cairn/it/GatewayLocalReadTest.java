package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.engine.ChunkId;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's HTTP gateway reads the chunks its own node holds in process: with N equal to the number
 * of nodes, a get asks no node over the network, and a chunk missing locally is asked of a peer; a
 * slow local read is waited for, a stalled one is hedged to a peer.
 */
class GatewayLocalReadTest {

    @TempDir
    Path dir;

    @Test
    void aGatewayGetReadsItsOwnNodeInProcessAndAsksAPeerOnlyForWhatItLacks() throws Exception {
        byte[] data = TestImages.random(23, 5 * 1024 * 1024 + 11);
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            String url = putOnEveryNode(cluster, "agent/local", data);
            HttpClient http = HttpClient.newHttpClient();

            long[] before = chunkReadsServed(cluster);
            assertArrayEquals(data, get(http, url));
            assertArrayEquals(before, chunkReadsServed(cluster), "every chunk is on node-1: no GET_CHUNKS was sent");

            // One chunk gone from node-1: only that one is asked of a peer.
            List<ChunkId> held = cluster.server(0).store().idsAfter(null, 1);
            assertEquals(1, held.size());
            assertTrue(cluster.server(0).store().delete(held.get(0)));
            long[] beforeMissing = chunkReadsServed(cluster);
            assertArrayEquals(data, get(http, url));
            long[] after = chunkReadsServed(cluster);
            assertEquals(beforeMissing[0], after[0], "node-1 reads its own chunks in process");
            assertTrue(after[1] + after[2] > beforeMissing[1] + beforeMissing[2], "a peer was asked for the missing chunk");
        }
    }

    @Test
    void aSlowLocalReadIsNotHedgedToAPeerButAStalledOneIs() throws Exception {
        byte[] data = TestImages.random(29, 3 * 1024 * 1024 + 5);
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            String url = putOnEveryNode(cluster, "agent/slow", data);
            HttpClient http = HttpClient.newHttpClient();

            // Twice the hedge delay of a client with no network samples (100 ms), well under 1 s.
            cluster.server(0).delayChunkReads(java.time.Duration.ofMillis(200));
            long[] before = chunkReadsServed(cluster);
            assertArrayEquals(data, get(http, url));
            assertArrayEquals(before, chunkReadsServed(cluster), "a slow local read is waited for, no peer asked");

            // A local read stalled past 1 s has a peer asked too.
            cluster.server(0).delayChunkReads(java.time.Duration.ofSeconds(2));
            assertArrayEquals(data, get(http, url));
            long[] after = chunkReadsServed(cluster);
            assertTrue(after[1] + after[2] > before[1] + before[2], "a peer was asked while the local read stalled");
        }
    }

    /**
     * Puts {@code data} with a network client, waits until every node holds every chunk (the put
     * answered after two copies; node-1's may still be on its way), and returns node-1's HTTP URL
     * of the image.
     */
    private static String putOnEveryNode(TestCluster cluster, String name, byte[] data) throws Exception {
        try (CairnClient client = cluster.client()) {
            client.put(name, new ByteArrayInputStream(data));
        }
        assertTrue(cluster.awaitSameChunkCounts(java.time.Duration.ofSeconds(30)), "every node holds every chunk");
        return "http://127.0.0.1:" + cluster.config(0).self().httpPort() + "/v1/images/" + name;
    }

    private static byte[] get(HttpClient http, String url) throws Exception {
        HttpResponse<byte[]> get = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, get.statusCode());
        return get.body();
    }

    /** GET_CHUNKS requests each node has answered over its protocol port. */
    private static long[] chunkReadsServed(TestCluster cluster) {
        long[] served = new long[3];
        for (int i = 0; i < 3; i++) {
            served[i] = cluster.server(i).metrics().registry().timer("cairn_request_get_chunks_seconds").getCount();
        }
        return served;
    }
}
