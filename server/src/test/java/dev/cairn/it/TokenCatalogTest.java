package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.server.meta.StoredToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Access tokens in the Raft catalog, created, listed and revoked with the CLI on a real 3-node cluster. */
class TokenCatalogTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void createListRevokeReachEveryNodeAndTheSecretIsNeverStored() throws Exception {
        String c = cluster.endpoints();
        CliTest.Run create = CliTest.cairn("admin", "token", "create", "--cluster", c, "--json", "--tenant", "team-a",
                "--role", "write", "--prefix", "team-a/", "--prefix", "shared/a/");
        assertEquals(0, create.code(), create.err());
        JsonNode created = new ObjectMapper().readTree(create.lastLine());
        String token = created.get("token").asText();
        String id = created.get("id").asText();
        assertTrue(token.startsWith(id + "."), token);
        assertEquals(token, create.lines().get(0), "the token is printed once, alone on the first line");
        assertEquals("write", created.get("role").asText());
        assertEquals("team-a/", created.get("prefixes").get(0).asText());
        String secret = token.substring(id.length() + 1);

        for (int i = 0; i < 3; i++) {
            int node = i;
            StoredToken stored = await(() -> cluster.server(node).meta().tokens().get(id), Optional::isPresent).orElseThrow();
            assertEquals("team-a", stored.info().tenant());
            assertTrue(stored.info().createdMillis() > 0, "the leader stamps the creation time");
        }

        CliTest.Run ls = CliTest.cairn("admin", "token", "ls", "--cluster", c, "--json");
        assertEquals(0, ls.code(), ls.err());
        assertTrue(ls.out().contains(id) && ls.out().contains("team-a/,shared/a/"), ls.out());
        assertFalse(ls.out().contains(secret), "ls never shows a secret");
        JsonNode listed = new ObjectMapper().readTree(ls.lastLine()).get("tokens").get(0);
        assertEquals(id, listed.get("id").asText());
        assertFalse(listed.has("token"));

        // The catalog (RocksDB) and the Raft log of every node hold the id but never the secret.
        byte[] secretBytes = secret.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 3; i++) {
            Path data = cluster.config(i).dataDir();
            assertTrue(anyFileContains(data.resolve("raft"), id.getBytes(StandardCharsets.UTF_8)),
                    "the scan finds the token id in node " + i + "'s Raft log");
            assertFalse(anyFileContains(data, secretBytes), "node " + i + " stores the secret");
        }

        CliTest.Run revoke = CliTest.cairn("admin", "token", "revoke", "--cluster", c, id);
        assertEquals(0, revoke.code(), revoke.err());
        assertEquals("revoked " + id, revoke.out().strip());
        for (int i = 0; i < 3; i++) {
            int node = i;
            assertTrue(await(() -> cluster.server(node).meta().tokens().get(id), Optional::isEmpty).isEmpty());
        }
        CliTest.Run again = CliTest.cairn("admin", "token", "revoke", "--cluster", c, id);
        assertEquals(1, again.code());
        assertTrue(again.err().contains("does not exist"), again.err());
        CliTest.Run badRole = CliTest.cairn("admin", "token", "create", "--cluster", c, "--tenant", "t", "--role", "owner");
        assertEquals(1, badRole.code());
        assertTrue(badRole.err().contains("not one of read, write, admin"), badRole.err());
    }

    /** Polls {@code read} until {@code done} holds, for at most 15 s; returns the last value. */
    private static <T> T await(java.util.function.Supplier<T> read, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        T value = read.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            Thread.sleep(20); // a bounded poll of a replica's applied state
            value = read.get();
        }
        return value;
    }

    private static boolean anyFileContains(Path root, byte[] needle) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).anyMatch(f -> contains(read(f), needle));
        }
    }

    private static byte[] read(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            return new byte[0]; // a file Ratis or RocksDB removed while we walked
        }
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
