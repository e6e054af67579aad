package dev.cairn.it;

import dev.cairn.client.CairnClient;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP port of a real node: health, listing and Prometheus metrics. */
class HttpEndpointsTest {

    @TempDir
    Path dir;

    @Test
    void aStreamPutOverHttpComesBackByteForByte() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            String base = "http://127.0.0.1:" + cluster.config(1).self().httpPort() + "/v1/images/";
            HttpClient http = HttpClient.newHttpClient();
            byte[] data = new byte[6 * 1024 * 1024 + 17];
            new java.util.Random(7).nextBytes(data);

            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base + "agent/ckpt-1"))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, put.statusCode(), put.body());
            JsonNode p = new ObjectMapper().readTree(put.body());
            assertEquals(data.length, p.get("logicalBytes").asLong());
            assertTrue(p.get("commitIndex").asLong() > 0);

            HttpResponse<byte[]> get = http.send(HttpRequest.newBuilder(URI.create(base + "agent/ckpt-1")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, get.statusCode());
            org.junit.jupiter.api.Assertions.assertArrayEquals(data, get.body());

            HttpResponse<Void> head = http.send(HttpRequest.newBuilder(URI.create(base + "agent/ckpt-1"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(200, head.statusCode());
            assertEquals(String.valueOf(data.length), head.headers().firstValue("x-cairn-logical-bytes").orElse(""));

            HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create(base + "agent/ckpt-1"))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[1])).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(409, again.statusCode(), again.body());

            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(URI.create(base + "bad%20name"))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[1])).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(new ObjectMapper().readTree(bad.body()).get("error").asText().contains("bad name"), bad.body());

            HttpResponse<String> delete = http.send(HttpRequest.newBuilder(URI.create(base + "agent/ckpt-1")).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, delete.statusCode(), delete.body());
            HttpResponse<String> gone = http.send(HttpRequest.newBuilder(URI.create(base + "agent/ckpt-1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, gone.statusCode());
            assertTrue(gone.body().contains("not found"), gone.body());
        }
    }

    @Test
    void aTarPutOverHttpIsADirectoryImageAndComesBackAsTar() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/sub"));
        Files.write(src.resolve("pages-1.img"), new byte[3 * 4096]);
        Files.writeString(dir.resolve("src/core-1.img"), "core");
        Files.createSymbolicLink(dir.resolve("src/parent"), Path.of("../dump-0"));
        byte[] tar = Processes.run(dir, "tar", "-c", "-C", dir.resolve("src").toString(), ".");
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster"))) {
            String url = "http://127.0.0.1:" + cluster.config(2).self().httpPort() + "/v1/images/agent/tarred";
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-tar")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(tar)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, put.statusCode(), put.body());

            HttpResponse<String> raw = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(406, raw.statusCode(), "a directory image is not one stream: " + raw.body());

            Trees.assertSameTree(dir.resolve("src"), getTar(http, url, dir));
        }
    }

    @Test
    void metricsShowDedupRepairAndGcProgress() throws Exception {
        byte[] image = TestImages.random(51, 3 * 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            // The client commits through the node it connected to first: node-1.
            client.put("dedup/first", new ByteArrayInputStream(image));
            client.put("dedup/second", new ByteArrayInputStream(image));
            cluster.server(0).replicator().repairNow();
            client.delete("dedup/first");
            assertTrue(dev.cairn.client.CairnAdmin.of(client).gc(java.time.Duration.ofSeconds(60)).completed());

            String text = scrape(cluster, 0);
            System.out.println(text.lines().filter(l -> l.startsWith("cairn_dedup") || l.startsWith("cairn_gc")
                    || l.startsWith("cairn_repair") || l.contains("quorum") || l.contains("cairn_protocol") || l.contains("get_chunks")).collect(java.util.stream.Collectors.joining("\n")));
            assertEquals(2.0 * image.length, value(text, "cairn_dedup_offered_bytes_total"));
            // Random bytes do not compress: the first put sent about the image, the second nothing new.
            double sent = value(text, "cairn_dedup_new_bytes_total");
            assertTrue(sent >= image.length && sent < 1.1 * image.length, text);
            double ratio = value(text, "cairn_dedup_ratio");
            assertTrue(ratio > 1.8 && ratio <= 2.0, "two puts of one image store it once: ratio " + ratio);
            assertTrue(value(text, "cairn_repair_chunks_checked_total") > 0, text);
            assertEquals(0, value(text, "cairn_repair_chunks_copied_total"), "nothing was missing");
            assertEquals(1, value(text, "cairn_gc_epochs_completed_total"));
            assertEquals(0, value(text, "cairn_gc_phase"), "idle after the epoch");
            assertTrue(value(text, "cairn_gc_marked_chunks_total") > 0, text);
            assertEquals(0, value(text, "cairn_gc_swept_chunks_total"), "the deleted image shared every chunk");
            // Every append batch's fdatasync is timed and sized: a fresh 3 MiB image took at least one.
            assertTrue(value(text, "cairn_store_fsync_count") >= 1, text);
            assertTrue(value(text, "cairn_store_fsync_batch_records_count") >= 1, text);
            assertEquals(0, value(text, "cairn_metadata_quorum_failures_total"));
            assertEquals(0, value(text, "cairn_http_quorum_failures_total"));
            // Nodes that served no commit say so with NaN rather than a made-up ratio.
            assertTrue(Double.isNaN(value(scrape(cluster, 1), "cairn_dedup_ratio")));
        }
    }

    /** GETs {@code url} as a tar and unpacks it with tar into {@code dir}/out, which it returns. */
    static Path getTar(HttpClient http, String url, Path dir) throws Exception {
        HttpResponse<byte[]> get = http.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", "application/x-tar").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, get.statusCode());
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.write(dir.resolve("back.tar"), get.body());
        Processes.run(dir, "tar", "-x", "-f", dir.resolve("back.tar").toString(), "-C", out.toString());
        return out;
    }

    static String scrape(TestCluster cluster, int node) throws Exception {
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + cluster.config(node).self().httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        return metrics.body();
    }

    /** The value of an unlabelled sample in Prometheus text. */
    static double value(String text, String name) {
        return text.lines().filter(l -> l.startsWith(name + " ")).map(l -> Double.parseDouble(l.substring(name.length() + 1).trim()))
                .findFirst().orElseThrow(() -> new AssertionError(name + " is not exported:\n" + text));
    }

    @Test
    void healthListingAndMetricsAnswerOverHttp() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("http/one", new ByteArrayInputStream(new byte[70_000]));
            String base = "http://127.0.0.1:" + cluster.config(0).self().httpPort();
            HttpClient http = HttpClient.newHttpClient();

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/admin/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            JsonNode h = new ObjectMapper().readTree(health.body());
            assertEquals("healthy", h.get("status").asText());
            assertTrue(h.get("chunks").asLong() > 0, health.body());

            HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/images?prefix=http/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, list.statusCode());
            assertEquals("http/one", new ObjectMapper().readTree(list.body()).get("images").get(0).get("name").asText());

            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
            // The put went through this node or another; every node answered CLUSTER_INFO-free
            // chunk requests, so the store gauge and the request histograms are there.
            assertTrue(metrics.body().contains("cairn_store_chunks "), metrics.body());
            assertTrue(metrics.body().contains("cairn_request_has_chunks_seconds"), metrics.body());
            assertTrue(metrics.body().contains("cairn_raft_commit_index "), metrics.body());
            assertTrue(metrics.body().contains("cairn_store_fsyncs "), metrics.body());
            assertTrue(metrics.body().contains("cairn_repair_chunks_below_replicas "), metrics.body());
            for (String line : metrics.body().lines().toList()) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    assertTrue(line.startsWith("cairn_"), "every metric name starts with cairn_: " + line);
                }
            }

            HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, missing.statusCode());
            assertTrue(missing.body().contains("error"));
        }
    }
}
