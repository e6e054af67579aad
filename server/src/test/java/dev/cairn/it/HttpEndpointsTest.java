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
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP port of a real node: health, listing and Prometheus metrics. */
class HttpEndpointsTest {

    @TempDir
    Path dir;

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
