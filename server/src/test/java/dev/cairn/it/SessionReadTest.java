package dev.cairn.it;

import dev.cairn.protocol.ImageMessages;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.ChunkPeers;
import dev.cairn.client.PutResult;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.ImageName;
import dev.cairn.protocol.MessageType;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.List;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session reads of the catalog: served by the node a client talks to, never older than what the client saw. */
class SessionReadTest {

    @TempDir
    Path dir;

    @Test
    void aSessionReadsItsOwnWritesFromAFollowerAndKeepsReadingWithoutALeader() throws Exception {
        byte[] image = TestImages.random(7, 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            cluster.awaitRunningLeader();
            int leader = cluster.leaderIndex();
            int follower = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            String followerEndpoint = cluster.config(follower).self().endpoint();
            ClientConfig session = new ClientConfig(List.of(followerEndpoint), Duration.ofSeconds(20)).withSessionReads(true);
            try (CairnClient client = CairnClient.connect(session)) {
                // Read-your-writes: the follower answers only once it has applied the client's commit,
                // which a majority acknowledged, but not necessarily this follower yet.
                for (int i = 0; i < 20; i++) {
                    PutResult put = client.put("session/" + i, new ByteArrayInputStream(image, 0, 1000 + i));
                    assertEquals(put.commitIndex(), client.stat("session/" + i).commitIndex());
                    assertTrue(client.sessionIndex() >= put.commitIndex());
                }
                long delete = client.delete("session/0");
                assertThrows(CairnException.ImageNotFound.class, () -> client.stat("session/0"));
                assertTrue(client.sessionIndex() >= delete);

                PutResult last = client.put("session/whole", new ByteArrayInputStream(image));
                // With no leader and no majority, linearizable reads cannot be answered; a session read
                // is answered by the follower alone, from its own replica.
                cluster.stopNode(leader);
                cluster.stopNode(other);
                assertEquals(last.commitIndex(), client.stat("session/whole").commitIndex());
                assertEquals(20, client.list("session/").size());
                assertArrayEquals(image, TestImages.read(client, "session/whole"));
            }
            ClientConfig linearizable = new ClientConfig(List.of(followerEndpoint), Duration.ofSeconds(3));
            try (CairnClient client = CairnClient.connect(linearizable)) {
                assertThrows(CairnException.class, () -> client.stat("session/whole"));
            }
        }
    }

    @Test
    void aSessionReadAheadOfTheNodeWaitsForItThenSaysWhatIsMissing() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir)) {
            cluster.awaitRunningLeader();
            int follower = (cluster.leaderIndex() + 1) % 3;
            String endpoint = cluster.config(follower).self().endpoint();
            try (CairnClient client = CairnClient.connect(
                    new ClientConfig(List.of(endpoint), Duration.ofSeconds(30)).withSessionReads(true))) {
                client.put("ahead", new ByteArrayInputStream(new byte[] {1, 2, 3}));
            }
            // A session whose index this node has not reached (here a forged one) is refused after the
            // wait, with both indexes named, rather than answered from an older state.
            try (ChunkPeers peers = ChunkPeers.connect(new ClientConfig(List.of(endpoint), Duration.ofSeconds(30)))) {
                String node = cluster.config(follower).nodeId();
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> peers.call(node, MessageType.GET_IMAGE,
                                new ImageMessages.GetImage(new ImageName("ahead"), 1_000_000).encode(), Duration.ofSeconds(30)).get());
                assertTrue(e.getCause().getMessage().contains("not yet to 1000000"), e.getCause().getMessage());
            }
        }
    }
}
