package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.MessageType;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ls} of a token with several prefixes, on a real cluster with {@code auth.required: true}:
 * with no prefix, or one that contains several of the token's, it lists the union of the token's
 * prefixes in name order, on the CLI, over HTTP and as a session read; never another tenant's names.
 */
class TokenListingTest {

    private static final List<String> A_AND_B = List.of("a/one", "a/two", "b/one");

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static String twoPrefixes;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.startWithAuth(1, dir.resolve("cluster"));
        String admin;
        try (CairnAdmin node = CairnAdmin.connect(ClientConfig.parse(cluster.endpoints()).withToken(cluster.nodeToken()))) {
            admin = node.createToken("ops", "admin", List.of()).token();
            twoPrefixes = node.createToken("team", "read", List.of("b/", "a/")).token();
        }
        try (CairnClient client = CairnClient.connect(ClientConfig.parse(cluster.endpoints()).withToken(admin))) {
            for (String name : List.of("a/one", "a/two", "ab/other", "b/one", "c/one", "0-first")) {
                client.put(name, new ByteArrayInputStream(name.getBytes()));
            }
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void cliLsWithoutAPrefixListsEveryPrefixOfTheTokenInNameOrder() throws Exception {
        assertEquals(A_AND_B, ls());
        assertEquals(List.of("a/one", "a/two"), ls("a/"), "a prefix within one of the token's");
        assertEquals(List.of("a/two"), ls("a/t"));
        assertEquals(List.of("a/one", "a/two"), ls("a"), "a prefix that contains a/, and ab/ which the token does not cover");

        CliTest.Run outside = cli("ls", "c/");
        assertEquals(4, outside.code(), outside.out() + outside.err());
        assertTrue(outside.err().contains("may list only under b/, a/"), outside.err());
    }

    @Test
    void httpListsEveryPrefixOfTheTokenAndRefusesAPrefixOutsideThem() throws Exception {
        HttpResponse<String> all = http("/v1/images");
        assertEquals(200, all.statusCode(), all.body());
        assertEquals(A_AND_B, names(all.body()));

        HttpResponse<String> narrowed = http("/v1/images?prefix=b");
        assertEquals(200, narrowed.statusCode(), narrowed.body());
        assertEquals(List.of("b/one"), names(narrowed.body()));

        assertEquals(403, http("/v1/images?prefix=c/").statusCode());
    }

    @Test
    void aSessionReadListsEveryPrefixOfTheTokenToo() {
        ClientConfig config = ClientConfig.parse(cluster.endpoints()).withToken(twoPrefixes).withSessionReads(true);
        try (CairnClient client = CairnClient.connect(config)) {
            assertEquals(A_AND_B, client.list("").stream().map(ImageInfo::name).map(n -> n.value()).toList());
        }
    }

    @Test
    void theLimitOfAListingCutsTheMergedNamesNotEachPrefix() throws Exception {
        try (RawConnection raw = new RawConnection(cluster.config(0).self())) {
            raw.send(Frame.request(MessageType.AUTH, 1, AuthMessages.encodeString(twoPrefixes), null));
            assertEquals(MessageType.AUTH, raw.read().type());
            for (int limit = 1; limit <= 4; limit++) {
                raw.send(Frame.request(MessageType.LIST_IMAGES, 1 + limit, new ImageMessages.ListImages("", limit).encode(), null));
                Frame answer = raw.read();
                assertEquals(MessageType.LIST_IMAGES, answer.type(), answer.toString());
                List<String> names = ImageMessages.decodeImages(answer.header()).stream().map(i -> i.name().value()).toList();
                assertEquals(A_AND_B.subList(0, Math.min(limit, A_AND_B.size())), names, "limit " + limit);
            }
        }
    }

    private static List<String> ls(String... prefix) throws Exception {
        List<String> args = new ArrayList<>(List.of("ls"));
        args.addAll(List.of(prefix));
        CliTest.Run run = cli(args.toArray(String[]::new));
        assertEquals(0, run.code(), run.out() + run.err());
        return run.lines().stream().map(l -> l.split("\t")[0]).toList();
    }

    private static CliTest.Run cli(String... args) throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("team.token"), twoPrefixes + "\n");
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--cluster", cluster.endpoints(), "--token-file", tokenFile.toString()));
        return CliTest.cairn(all.toArray(String[]::new));
    }

    private static HttpResponse<String> http(String pathAndQuery) throws Exception {
        var self = cluster.config(0).self();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + self.host() + ":" + self.httpPort() + pathAndQuery))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + twoPrefixes).GET().build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The image names of a listing's JSON, in the order given. */
    private static List<String> names(String json) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"name\":\"([^\"]*)\"").matcher(json);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }
}
