package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.config.ClientConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A put that its commit would refuse (a name outside the token's prefixes, or one that exists) is
 * refused before its chunks are sent: a tenant cannot make the cluster store bytes under a name it
 * may not use, and a checkpoint agent learns of the clash before it uploads gigabytes.
 */
class PutPrecheckTest {

    @TempDir
    static Path dir;
    static TestCluster cluster;
    static String teamA;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.startWithAuth(3, dir.resolve("cluster"));
        try (CairnAdmin admin = CairnAdmin.connect(ClientConfig.parse(cluster.endpoints()).withToken(cluster.nodeToken()))) {
            teamA = admin.createToken("team-a", "write", List.of("team-a/")).token();
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aNameOutsideTheTokensPrefixesIsRefusedBeforeAnyChunkIsStored() throws Exception {
        Path source = randomDir("outside", 1);
        long before = chunksOnAllNodes();
        try (CairnClient client = CairnClient.connect(ClientConfig.parse(cluster.endpoints()).withToken(teamA))) {
            CairnException.NotAllowed e = assertThrows(CairnException.NotAllowed.class, () -> client.put("team-b/x", source));
            assertTrue(e.getMessage().contains("team-b/x"), e.getMessage());
        }
        assertEquals(before, chunksOnAllNodes(), "no chunk of the refused put was stored");
    }

    @Test
    void aNameThatExistsIsRefusedBeforeAnyChunkIsStored() throws Exception {
        try (CairnClient client = CairnClient.connect(ClientConfig.parse(cluster.endpoints()).withToken(teamA))) {
            client.put("team-a/taken", randomDir("first", 2));
            Path second = randomDir("second", 3);
            long before = chunksOnAllNodes();
            CairnException.ImageExists e = assertThrows(CairnException.ImageExists.class, () -> client.put("team-a/taken", second));
            assertTrue(e.getMessage().contains("team-a/taken") && e.getMessage().contains("choose a new name"), e.getMessage());
            assertEquals(before, chunksOnAllNodes(), "no chunk of the refused put was stored");
        }
    }

    private static long chunksOnAllNodes() {
        long n = 0;
        for (int i = 0; i < 3; i++) {
            n += cluster.server(i).store().chunkCount();
        }
        return n;
    }

    private static Path randomDir(String name, long seed) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        byte[] bytes = new byte[2 * 1024 * 1024];
        new Random(seed).nextBytes(bytes);
        Files.write(d.resolve("pages-1.img"), bytes);
        return d;
    }
}
