package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.client.CairnAdmin;
import dev.cairn.config.ClientConfig;
import dev.cairn.server.meta.StoredQuota;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-prefix byte quotas on a real 3-node cluster with tokens: set, listed and removed by an
 * admin, enforced at commit (CLI exit 4, HTTP 403), kept by a node that rebuilds its catalog from the log.
 */
class QuotaTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static Path adminFile;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.startWithAuth(3, dir.resolve("cluster"));
        try (CairnAdmin admin = CairnAdmin.connect(ClientConfig.parse(cluster.endpoints()).withToken(cluster.nodeToken()))) {
            adminFile = Files.writeString(dir.resolve("admin.token"), admin.createToken("ops", "admin", List.of()).token() + "\n");
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aPutOverTheQuotaIsRefusedWithExit4AndRemovingAnImageFreesRoom() throws Exception {
        assertEquals(0, cli(adminFile, "admin", "quota", "set", "q1/", "--max-bytes", "10K").code());
        assertEquals(0, cli(adminFile, "put", "q1/a", file("a", 6_000)).code());

        CliTest.Run over = cli(adminFile, "put", "q1/b", file("b", 6_000));
        assertEquals(4, over.code(), over.out() + over.err());
        List<String> lines = over.errLines("cairn: ");
        assertEquals(1, lines.size(), over.err());
        String m = lines.get(0);
        assertTrue(m.contains("quota exceeded: image q1/b (6000 bytes)") && m.contains("quota of q1/")
                && m.contains("holds 6000 of its 10240 bytes") && m.contains("cairn admin quota set q1/"), m);
        assertEquals(3, cli(adminFile, "stat", "q1/b").code(), "nothing was committed");
        Path out = dir.resolve("a-out");
        assertEquals(0, cli(adminFile, "get", "q1/a", out.toString()).code(), "the earlier image is intact");
        try (Stream<Path> restored = Files.walk(out)) {
            Path only = restored.filter(Files::isRegularFile).findFirst().orElseThrow();
            assertTrue(Arrays.equals(Files.readAllBytes(Path.of(file("a", 6_000))), Files.readAllBytes(only)));
        }
        assertEquals(new StoredQuota("q1/", 10_240, 6_000), quota(0, "q1/"));

        assertEquals(0, cli(adminFile, "rm", "q1/a").code());
        assertEquals(0, cli(adminFile, "put", "q1/b", file("b", 6_000)).code(), "rm freed the room");
        assertEquals(0, cli(adminFile, "admin", "quota", "rm", "q1/").code());
        assertEquals(0, cli(adminFile, "put", "q1/c", file("c", 9_000)).code(), "no quota, no limit");
    }

    @Test
    void aQuotaSetOnAPopulatedPrefixCountsTheImagesThereAndLsShowsIt() throws Exception {
        assertEquals(0, cli(adminFile, "put", "q2/x", file("x", 3_000)).code());
        assertEquals(0, cli(adminFile, "put", "q2/deep/y", file("y", 2_000)).code());
        CliTest.Run set = cli(adminFile, "admin", "quota", "set", "q2/", "--max-bytes", "5000", "--json");
        assertEquals(0, set.code(), set.err());
        JsonNode q = new ObjectMapper().readTree(set.lastLine());
        assertEquals(5_000, q.get("usedBytes").asLong());
        assertEquals(100.0, q.get("percentUsed").asDouble());
        assertEquals(4, cli(adminFile, "put", "q2/z", file("z", 1)).code(), "full: one more byte is refused");

        CliTest.Run ls = cli(adminFile, "admin", "quota", "ls", "--json");
        assertEquals(0, ls.code(), ls.err());
        assertTrue(ls.out().lines().anyMatch(l -> l.startsWith("q2/") && l.contains("4.9 KiB") && l.contains("100.0%")), ls.out());
        JsonNode listed = null;
        for (JsonNode n : new ObjectMapper().readTree(ls.lastLine()).get("quotas")) {
            listed = n.get("prefix").asText().equals("q2/") ? n : listed;
        }
        assertEquals(5_000, listed.get("maxBytes").asLong());
    }

    @Test
    void onlyAnAdminTokenMaySetListOrRemoveQuotas() throws Exception {
        CliTest.Run create = cli(adminFile, "admin", "token", "create", "--tenant", "team-w", "--role", "write", "--prefix", "w/");
        assertEquals(0, create.code(), create.err());
        Path writer = Files.writeString(dir.resolve("writer.token"), create.lines().get(0) + "\n");
        for (String[] args : List.of(new String[] {"admin", "quota", "set", "w/", "--max-bytes", "1T"},
                new String[] {"admin", "quota", "ls"}, new String[] {"admin", "quota", "rm", "w/"})) {
            CliTest.Run run = cli(writer, args);
            assertEquals(4, run.code(), run.out() + run.err());
            assertTrue(run.err().contains("needs role admin"), run.err());
        }
        CliTest.Run badPrefix = cli(adminFile, "admin", "quota", "set", "w", "--max-bytes", "1T");
        assertEquals(1, badPrefix.code());
        assertTrue(badPrefix.err().contains("must end with /"), badPrefix.err());
        CliTest.Run badSize = cli(adminFile, "admin", "quota", "set", "w/", "--max-bytes", "lots");
        assertEquals(1, badSize.code());
        assertTrue(badSize.err().contains("is not a size"), badSize.err());
    }

    @Test
    void anHttpPutOverTheQuotaGets403WithAJsonErrorAndCommitsNothing() throws Exception {
        assertEquals(0, cli(adminFile, "admin", "quota", "set", "h/", "--max-bytes", "100").code());
        String admin = Files.readString(adminFile).strip();
        HttpResponse<String> fits = http("PUT", "/v1/images/h/small", admin, new byte[60]);
        assertEquals(201, fits.statusCode(), fits.body());
        HttpResponse<String> over = http("PUT", "/v1/images/h/big", admin, new byte[60]);
        assertEquals(403, over.statusCode(), over.body());
        assertTrue(over.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        assertTrue(over.body().startsWith("{\"error\":") && over.body().contains("quota exceeded")
                && over.body().contains("holds 60 of its 100 bytes"), over.body());
        assertEquals(404, http("GET", "/v1/images/h/big", admin, null).statusCode());
    }

    /** A node whose catalog is lost rebuilds it from the Raft log: the same quotas, the same counts. */
    @Test
    void quotasAndTheirCountsSurviveARestartAndAReplayOfTheLog() throws Exception {
        assertEquals(0, cli(adminFile, "admin", "quota", "set", "r/", "--max-bytes", "1M").code());
        assertEquals(0, cli(adminFile, "put", "r/1", file("r1", 4_000)).code());
        StoredQuota expected = new StoredQuota("r/", 1 << 20, 4_000);
        int node = 2;
        awaitQuota(node, expected);
        cluster.stopNode(node);
        Path catalog = cluster.config(node).dataDir().resolve("catalog");
        try (Stream<Path> files = Files.walk(catalog)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        cluster.startNode(node);
        awaitQuota(node, expected);
        assertEquals(expected, quota(0, "r/"));
    }

    private static void awaitQuota(int node, StoredQuota expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        StoredQuota seen = quota(node, expected.prefix());
        while (!expected.equals(seen) && System.nanoTime() < deadline) {
            Thread.sleep(20); // a bounded poll of a replica's applied state
            seen = quota(node, expected.prefix());
        }
        assertEquals(expected, seen, "node " + node + "'s replica");
    }

    private static StoredQuota quota(int node, String prefix) {
        return cluster.server(node).meta().quotas().all().stream().filter(q -> q.prefix().equals(prefix)).findFirst()
                .orElse(null);
    }

    private static String file(String name, int size) throws Exception {
        Path f = dir.resolve("src-" + name + ".img");
        if (!Files.exists(f)) {
            byte[] bytes = new byte[size];
            new java.util.Random(name.hashCode()).nextBytes(bytes);
            Files.write(f, bytes);
        }
        return f.toString();
    }

    private static CliTest.Run cli(Path tokenFile, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--cluster");
        all.add(cluster.endpoints());
        all.add("--token-file");
        all.add(tokenFile.toString());
        return CliTest.cairn(all.toArray(String[]::new));
    }

    private static HttpResponse<String> http(String method, String path, String token, byte[] body) throws Exception {
        var self = cluster.config(0).self();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + self.host() + ":" + self.httpPort() + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
