package dev.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.HttpLimits;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.publicMonitoring} on a real node with {@code auth.required: true}: true serves
 * {@code /metrics} and health without a token; false asks a token of them, of any role.
 */
class HttpMonitoringAccessTest {

    private static final int WAIT_MILLIS = 20_000;

    @TempDir
    Path dir;

    @Test
    void withPublicMonitoringOffMetricsAndHealthNeedATokenAndAReadTokenIsEnough() throws Exception {
        try (HttpNode node = HttpNode.startWithAuth(dir, HttpLimits.defaults().withPublicMonitoring(false))) {
            String reader = node.token("read", "team-a/");
            for (String path : new String[] {"/metrics", "/v1/admin/health"}) {
                RawHttp.Answer refused = get(node, path, null);
                assertEquals(401, refused.status(), path + ": " + refused);
                assertTrue(refused.body().contains("requires an access token"), refused.body());
                assertEquals(401, get(node, path, "0123456789abcdef.wrong").status(), path + " took an unknown token");

                RawHttp.Answer served = get(node, path, reader);
                assertEquals(200, served.status(), path + ": " + served);
            }
            assertTrue(get(node, "/metrics", reader).body().contains("cairn_"), "not the metrics");
        }
    }

    @Test
    void withPublicMonitoringOnMetricsAndHealthNeedNoTokenWhileImagesDo() throws Exception {
        try (HttpNode node = HttpNode.startWithAuth(dir, HttpLimits.defaults())) {
            assertEquals(200, get(node, "/metrics", null).status());
            assertEquals(200, get(node, "/v1/admin/health", null).status());
            assertEquals(401, get(node, "/v1/images", null).status(), "the image list needs a token");
        }
    }

    private static RawHttp.Answer get(HttpNode node, String path, String token) throws Exception {
        try (RawHttp http = new RawHttp(node.httpPort(), WAIT_MILLIS)) {
            String auth = token == null ? "" : "Authorization: Bearer " + token + "\r\n";
            return http.send("GET " + path + " HTTP/1.1\r\nHost: node\r\n" + auth + "\r\n").read();
        }
    }
}
