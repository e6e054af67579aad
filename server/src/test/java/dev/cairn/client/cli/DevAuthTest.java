package dev.cairn.client.cli;

import dev.cairn.config.ClientConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.it.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What cairn dev makes for authentication: a private cluster secret, and an admin token made with it, kept across restarts. */
class DevAuthTest {

    @TempDir
    Path dir;

    @Test
    void theClusterSecretIsPrivateAndTheAdminTokenWorksAndIsKept() throws Exception {
        Path fresh = DevAuth.clusterSecret(Files.createDirectories(dir.resolve("fresh")));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
        assertTrue(Files.readString(fresh).startsWith("node."), "a cluster secret names itself");
        assertEquals(Files.readString(fresh), Files.readString(DevAuth.clusterSecret(dir.resolve("fresh"))), "kept");

        try (TestCluster cluster = TestCluster.startWithAuth(3, dir.resolve("cluster"))) {
            Path data = Files.createDirectories(dir.resolve("data"));
            Files.writeString(data.resolve(DevAuth.CLUSTER_SECRET), cluster.nodeToken());
            Path token = DevAuth.adminToken(data, ClientConfig.parse(cluster.endpoints()).withToken(cluster.nodeToken()));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token)));
            String first = Files.readString(token);
            assertEquals(token, DevAuth.adminToken(data, ClientConfig.parse(cluster.endpoints()).withToken(cluster.nodeToken())));
            assertEquals(first, Files.readString(token), "a restarted dev cluster keeps its admin token");

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream old = System.out;
            int code;
            try {
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                code = CairnCli.run(new String[] {"admin", "token", "ls", "--cluster", cluster.endpoints(),
                    "--token-file", token.toString()});
            } finally {
                System.setOut(old);
            }
            assertEquals(0, code);
            String ls = out.toString(StandardCharsets.UTF_8);
            assertTrue(ls.contains(first.strip().split("\\.")[0]) && ls.contains("dev") && ls.contains("admin"), ls);
        }
    }

    /** A dev data directory from before tokens: its nodes have no cluster secret and take a connection without a token. */
    @Test
    void onNodesWithoutAClusterSecretTheAdminTokenIsMadeWithoutOne() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("old"))) {
            Path data = Files.createDirectories(dir.resolve("old-data"));
            Path token = DevAuth.adminToken(data, ClientConfig.parse(cluster.endpoints()));
            String id = Files.readString(token).strip().split("\\.")[0];
            assertTrue(cluster.server(0).meta().tokens().get(id).isPresent(), "the token is in the catalog");
        }
    }
}
