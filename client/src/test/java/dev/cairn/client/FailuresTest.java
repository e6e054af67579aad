package dev.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.ClientConfig;
import dev.cairn.config.Limits;
import dev.cairn.protocol.MessageType;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Failures reach the user as which node, what failed and what to do, never as Java or Netty text. */
class FailuresTest {

    /** A loopback port nothing listens on (bound once, then closed). */
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aRefusedConnectionNamesTheNodeItsEndpointAndTheCauseInPlainWords() throws Exception {
        int port = closedPort();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (NodeConnection node = new NodeConnection("n2", "127.0.0.1", port, Limits.DEFAULT_MAX_FRAME_BYTES,
                Duration.ofSeconds(5), group)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> node.call(MessageType.CLUSTER_INFO, ByteBuffer.allocate(0)).get(10, TimeUnit.SECONDS));
            String m = Failures.describe(node, e);
            assertEquals("cannot reach node n2 at 127.0.0.1:" + port + " (connection refused)", m);
            assertEquals("connection refused", Failures.cause(e));
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void connectingToNoNodeSaysWhereItLookedAndWhatToCheck() throws Exception {
        int port = closedPort();
        CairnException.ClusterUnreachable e = assertThrows(CairnException.ClusterUnreachable.class,
                () -> CairnClient.connect(ClientConfig.parse("127.0.0.1:" + port)));
        String m = e.getMessage();
        assertTrue(m.contains("127.0.0.1:" + port + " (connection refused)") && m.contains("check --cluster"), m);
        assertFalse(m.contains("Exception") || m.contains("finishConnect"), m);
    }

    @Test
    void knownNetworkFailuresBecomePlainWordsThroughTheirWrappers() {
        assertEquals("connection refused", Failures.cause(new CompletionException(
                new ConnectException("finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:7401"))));
        assertEquals("connection timed out", Failures.cause(new ConnectException("connection timed out: /10.0.0.9:7400")));
        assertEquals("connection closed", Failures.cause(new ExecutionException(new ClosedChannelException())));
        assertEquals("unknown host", Failures.cause(new java.io.IOException("x", new java.net.UnknownHostException("nohost"))));
        assertEquals("node-4 answered 3 entries for 2 ids",
                Failures.cause(new IllegalStateException("node-4 answered 3 entries for 2 ids")), "a message of our own stays");
        String unknown = Failures.cause(new NullPointerException());
        assertFalse(unknown.contains("NullPointerException"), unknown);
    }

    @Test
    void localFileFailuresSayWhatAndWhichFile() {
        assertEquals("permission denied (/restore/a/b)", Failures.local(new java.nio.file.AccessDeniedException("/restore/a/b")));
        assertEquals("no such file or directory (/restore)", Failures.local(new java.nio.file.NoSuchFileException("/restore")));
        assertEquals("No space left on device (/restore/a)",
                Failures.local(new java.nio.file.FileSystemException("/restore/a", null, "No space left on device")));
        assertEquals("Broken pipe", Failures.local(new java.io.IOException("Broken pipe")));
    }
}
