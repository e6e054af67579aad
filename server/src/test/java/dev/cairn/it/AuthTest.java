package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.config.ClientConfig;
import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-node cluster with {@code auth.required: true}: no token, a revoked token, a role too low or
 * another tenant's prefix are refused (CLI exit 4), and no client token can arm or sweep GC.
 */
class AuthTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static Path adminFile;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.startWithAuth(3, dir.resolve("cluster"));
        // The first admin token is made with the cluster secret, as cairn dev does.
        try (CairnAdmin admin = CairnAdmin.connect(ClientConfig.parse(cluster.endpoints()).withToken(cluster.nodeToken()))) {
            adminFile = write("admin.token", admin.createToken("ops", "admin", List.of()).token());
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static Path write(String name, String token) throws Exception {
        return Files.writeString(dir.resolve(name), token + "\n");
    }

    static CliTest.Run cli(Path tokenFile, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        // Options after the command's own arguments: picocli takes them there too, on any subcommand.
        all.add("--cluster");
        all.add(cluster.endpoints());
        if (tokenFile != null) {
            all.add("--token-file");
            all.add(tokenFile.toString());
        }
        return CliTest.cairn(all.toArray(String[]::new));
    }

    static Path token(String tenant, String role, String... prefixes) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("admin", "token", "create", "--tenant", tenant, "--role", role));
        for (String p : prefixes) {
            args.add("--prefix");
            args.add(p);
        }
        CliTest.Run create = cli(adminFile, args.toArray(String[]::new));
        assertEquals(0, create.code(), create.err());
        return write(tenant + "-" + role + ".token", create.lines().get(0));
    }

    static void assertRefused(CliTest.Run run, String words) {
        assertEquals(4, run.code(), run.out() + run.err());
        List<String> lines = run.errLines("cairn: ");
        assertEquals(1, lines.size(), run.err());
        assertTrue(lines.get(0).contains(words), lines.get(0));
    }

    @Test
    void withoutATokenEveryCommandIsRefusedWithExit4() throws Exception {
        assertRefused(cli(null, "ls"), "requires an access token");
        assertRefused(cli(null, "admin", "token", "ls"), "requires an access token");
        assertThrows(CairnException.NotAuthenticated.class, () -> CairnClient.connect(ClientConfig.parse(cluster.endpoints())));
        assertRefused(cli(write("bogus.token", "0123456789abcdef.not-the-secret"), "ls"), "not known to this cluster");
    }

    @Test
    void rolesAndPrefixesDecideAndLsShowsOnlyTheTenantsNames() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("core-1.img"), "core of a checkpoint");
        Path ops = adminFile;
        assertEquals(0, cli(ops, "put", "team-b/img", src.toString()).code());
        Path teamA = token("team-a", "write", "team-a/");
        Path reader = token("team-a-read", "read", "team-a/");

        assertEquals(0, cli(teamA, "put", "team-a/img", src.toString()).code());
        assertRefused(cli(teamA, "put", "team-b/mine", src.toString()), "limited to names under team-a/");
        assertRefused(cli(teamA, "stat", "team-b/img"), "limited to names under team-a/");
        assertRefused(cli(teamA, "get", "team-b/img", dir.resolve("out-b").toString()), "limited to names under team-a/");
        assertRefused(cli(teamA, "rm", "team-b/img"), "limited to names under team-a/");
        CliTest.Run ls = cli(teamA, "ls");
        assertEquals(0, ls.code(), ls.err());
        assertTrue(ls.out().contains("team-a/img"), ls.out());
        assertFalse(ls.out().contains("team-b"), "ls shows another tenant's names: " + ls.out());
        assertRefused(cli(teamA, "ls", "team-b/"), "may list only under team-a/");
        assertRefused(cli(teamA, "admin", "token", "ls"), "needs role admin");

        assertEquals(0, cli(reader, "stat", "team-a/img").code());
        assertRefused(cli(reader, "put", "team-a/other", src.toString()), "needs role write");
        assertRefused(cli(reader, "rm", "team-a/img"), "needs role write");
        assertEquals(0, cli(ops, "stat", "team-b/img").code(), "the admin token has no prefixes: every name");
    }

    @Test
    void aRevokedTokenIsRefusedAtItsNextRequestOnEveryNodeWithoutARestart() throws Exception {
        Path t = token("gone", "read");
        String id = Files.readString(t).strip().split("\\.")[0];
        try (CairnClient client = CairnClient.connect(ClientConfig.parse(cluster.endpoints()).withToken(Files.readString(t).strip()))) {
            client.list("");
            assertEquals(0, cli(adminFile, "admin", "token", "revoke", id).code());
            // The same client, its connections already authenticated: refused at the next request once
            // the node it asks has applied the revocation (bounded poll: followers apply within ms).
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(15).toNanos();
            CairnException.NotAuthenticated refused = null;
            while (refused == null && System.nanoTime() < deadline) {
                try {
                    client.list("");
                    Thread.sleep(20);
                } catch (CairnException.NotAuthenticated e) {
                    refused = e;
                }
            }
            assertTrue(refused != null && refused.getMessage().contains("was revoked"), String.valueOf(refused));
        }
        assertRefused(cli(t, "ls"), "not known to this cluster");
    }

    @Test
    void httpAnswers401WithoutOrWithABadTokenAnd403OutsideTheTokensRightsWithAJsonError() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src-http"));
        Files.writeString(src.resolve("core-1.img"), "http core");
        assertEquals(0, cli(adminFile, "put", "http-b/img", src.toString()).code());
        String teamC = Files.readString(token("team-c", "write", "http-c/")).strip();

        assertHttp(401, "requires an access token", "GET", "/v1/images", null);
        assertHttp(401, "not known to this cluster", "GET", "/v1/images", "0123456789abcdef.wrong");
        assertHttp(401, "not 'Bearer ID.SECRET'", "GET", "/v1/images", "Basic abc");
        assertHttp(403, "limited to names under http-c/", "GET", "/v1/images/http-b/img", teamC);
        assertHttp(403, "limited to names under http-c/", "DELETE", "/v1/images/http-b/img", teamC);
        assertHttp(403, "limited to names under http-c/", "PUT", "/v1/images/http-b/new", teamC);
        java.net.http.HttpResponse<String> list = http("GET", "/v1/images", teamC);
        assertEquals(200, list.statusCode(), list.body());
        assertFalse(list.body().contains("http-b"), list.body());
        assertEquals(200, http("GET", "/v1/admin/health", null).statusCode(), "health stays readable without a token");
        assertEquals(200, http("GET", "/v1/images/http-b/img", Files.readString(adminFile).strip()).statusCode());
    }

    private static void assertHttp(int status, String words, String method, String path, String token) throws Exception {
        java.net.http.HttpResponse<String> r = http(method, path, token);
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.headers().toString());
        assertTrue(r.body().startsWith("{\"error\":") && r.body().contains(words), r.body());
    }

    private static java.net.http.HttpResponse<String> http(String method, String path, String token) throws Exception {
        var self = cluster.config(0).self();
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + self.host() + ":" + self.httpPort() + path))
                .timeout(java.time.Duration.ofSeconds(30))
                .method(method, method.equals("PUT") ? java.net.http.HttpRequest.BodyPublishers.ofString("x")
                        : java.net.http.HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", token.startsWith("Basic") ? token : "Bearer " + token);
        }
        return java.net.http.HttpClient.newHttpClient().send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Chunks are shared across tenants (dedup), which is safe only because every node re-hashes
     * what it stores: a tenant that sends other bytes under the id of another tenant's chunk is
     * refused by every node, and the other tenant's image reads back byte-exact.
     */
    @Test
    void aTenantCannotPoisonAnotherTenantsChunkBySendingOtherBytesUnderItsId() throws Exception {
        byte[] content = new byte[12_000];
        new java.util.Random(23).nextBytes(content);
        Path src = Files.createDirectories(dir.resolve("src-victim"));
        Files.write(src.resolve("data.bin"), content);
        Path victim = token("victim", "write", "victim/");
        String attacker = Files.readString(token("attacker", "write", "attacker/")).strip();
        assertEquals(0, cli(victim, "put", "victim/img", src.toString()).code());

        dev.cairn.engine.ChunkId id = dev.cairn.engine.ChunkData.raw(content).id();
        byte[] forged = new byte[content.length];
        java.util.Arrays.fill(forged, (byte) 0x5a);
        dev.cairn.engine.ChunkData poison = new dev.cairn.engine.ChunkData(id, dev.cairn.engine.ChunkCodec.RAW,
                forged.length, ByteBuffer.wrap(forged));
        for (int i = 0; i < 3; i++) {
            assertTrue(cluster.server(i).store().contains(id), "node " + i + " holds the victim's chunk");
            try (RawConnection raw = new RawConnection(cluster.config(i).self())) {
                raw.send(Frame.request(MessageType.AUTH, 1, AuthMessages.encodeString(attacker), null));
                assertEquals(MessageType.AUTH, raw.read().type());
                raw.send(Frame.request(MessageType.PUT_CHUNKS, 2, dev.cairn.protocol.ChunkMessages.encodeChunkHeader(
                        List.of(poison)), ByteBuffer.wrap(forged)));
                Frame answer = raw.read();
                assertEquals(MessageType.ERROR, answer.type(), "node " + i + " stored bytes that do not hash to their id");
                assertEquals(ErrorCode.CORRUPT_CHUNK, Messages.Error.decode(answer.header()).code());
            }
            ByteBuffer stored = cluster.server(i).store().read(id).orElseThrow().rawBytes();
            byte[] kept = new byte[stored.remaining()];
            stored.get(kept);
            assertTrue(java.util.Arrays.equals(content, kept), "node " + i + "'s copy changed");
        }
        Path out = dir.resolve("victim-out");
        assertEquals(0, cli(victim, "get", "victim/img", out.toString()).code());
        assertTrue(java.util.Arrays.equals(content, Files.readAllBytes(out.resolve("data.bin"))));
    }

    @Test
    void noClientTokenCanArmOrSweepGcWhateverItsRole() throws Exception {
        String admin = Files.readString(adminFile).strip();
        try (RawConnection raw = new RawConnection(cluster.config(0).self())) {
            raw.send(Frame.request(MessageType.AUTH, 1, AuthMessages.encodeString(admin), null));
            assertEquals(MessageType.AUTH, raw.read().type());
            for (MessageType type : List.of(MessageType.GC_ARM, MessageType.GC_SWEEP)) {
                raw.send(Frame.request(type, 2, GcMessages.encodeEpoch(99), null));
                Frame answer = raw.read();
                assertEquals(MessageType.ERROR, answer.type());
                Messages.Error error = Messages.Error.decode(answer.header());
                assertEquals(ErrorCode.FORBIDDEN, error.code(), error.message());
                assertTrue(error.message().contains("only by the cluster's own nodes"), error.message());
            }
        }
        try (RawConnection raw = new RawConnection(cluster.config(0).self())) {
            raw.send(Frame.request(MessageType.GC_ARM, 1, GcMessages.encodeEpoch(99), null));
            assertEquals(ErrorCode.UNAUTHENTICATED, Messages.Error.decode(raw.read().header()).code());
        }
        // The cluster itself still collects garbage: its GC run arms and sweeps with the node secret.
        assertEquals(0, cli(adminFile, "admin", "gc").code());
    }
}
