package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.NodeAddress;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request of a type this node does not know (a newer client's) gets an ERROR answer on the same
 * connection, which stays open for the requests the node does know.
 */
class UnknownMessageTypeTest {

    /** No build has used this code; a future one might. */
    private static final int FUTURE_TYPE = 0x7e;

    @TempDir
    Path dir;

    @Test
    void anUnknownRequestTypeIsAnsweredAndTheConnectionStaysOpen() throws Exception {
        try (TestCluster cluster = TestCluster.start(1, dir)) {
            NodeAddress node = cluster.config(0).self();
            try (RawConnection connection = new RawConnection(node)) {

                ByteBuffer future = Frame.request(MessageType.CLUSTER_INFO, 42, null, null).encode(RawConnection.MAX);
                future.put(Frame.LENGTH_FIELD_BYTES, (byte) FUTURE_TYPE);
                connection.send(future);
                Frame answer = connection.read();
                assertEquals(MessageType.ERROR, answer.type());
                assertEquals(42, answer.requestId());
                Messages.Error error = Messages.Error.decode(answer.header());
                assertEquals(ErrorCode.BAD_REQUEST, error.code());
                assertTrue(error.message().contains("unknown message type " + FUTURE_TYPE)
                        && error.message().contains("upgrade the node"), error.message());

                connection.send(Frame.request(MessageType.CLUSTER_INFO, 43, null, null));
                Frame info = connection.read();
                assertEquals(MessageType.CLUSTER_INFO, info.type());
                assertEquals(43, info.requestId());
                assertEquals(cluster.config(0).nodeId(), Messages.ClusterInfo.decode(info.header()).nodeId());
            }
        }
    }
}
