package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.engine.ImageName;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under ratis-grpc a follower serves a linearizable read itself (it asks the leader for a read
 * index), which ratis-netty could not (docs/consistency.md): the read is answered, with the
 * latest commit.
 */
class FollowerReadTest {

    @TempDir
    Path dir;

    @Test
    void aFollowerAnswersALinearizableReadWithTheLatestCommit() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3).startAll()) {
            ImageName name = new ImageName("follower/read");
            long index = get(cluster.node(0).commitImage(name, root("a")));
            int follower = (cluster.leader() + 1) % 3;
            RaftPeerId followerId = RaftPeerId.valueOf(cluster.configs.get(follower).nodeId());
            try (RaftClient client = RaftClient.newBuilder().setProperties(RaftNode.clientProperties())
                    .setRaftGroup(RaftNode.group(cluster.configs.get(0).nodes())).setRetryPolicy(RetryPolicies.noRetry()).build()) {
                Message read = Message.valueOf(UnsafeByteOperations.unsafeWrap(
                        CatalogMessages.encode(new CatalogImageMessages.GetImage(name))));
                RaftClientReply reply = client.async().sendReadOnly(read, followerId).get(10, TimeUnit.SECONDS);
                assertEquals(followerId, reply.getServerId(), "answered by the follower itself");
                CatalogMessages.Reply answer = CatalogReplyCodec.decodeReply(reply.getMessage().getContent().asReadOnlyByteBuffer());
                assertEquals(index, answer.images().get(0).commitIndex());
            }
        }
    }
}
