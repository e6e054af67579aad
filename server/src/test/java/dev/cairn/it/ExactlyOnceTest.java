package dev.cairn.it;

import dev.cairn.protocol.ImageMessages;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.client.CairnClient;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.MessageType;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit whose reply is lost is retried, with the same call id, through another node: the
 * retry gets the first result and the catalog holds one image, never an EXISTS error.
 */
class ExactlyOnceTest {

    @TempDir
    Path dir;

    @Test
    void aRetriedCommitOrDeleteIsAppliedOnce() throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            ImageName name = new ImageName("retried/commit");
            ImageRoot root = new ImageRoot(ChunkId.of(new byte[] {1}), 1, 1, 1, 1, 1_700_000_000_000L);
            ImageMessages.CallId call = new ImageMessages.CallId(UUID.randomUUID(), 1);
            ByteBuffer commit = new ImageMessages.CommitImage(name, root, call).encode();

            // The first answer is "lost": the caller never reads it and asks another node.
            long first = Messages.decodeLong(call(cluster.config(0).self(), MessageType.COMMIT_IMAGE, commit).header());
            long retry = Messages.decodeLong(call(cluster.config(1).self(), MessageType.COMMIT_IMAGE, commit).header());
            assertEquals(first, retry);
            assertEquals(1, client.list("retried/").size());

            // A new call for the same name is a different commit: refused, images are immutable.
            Frame other = call(cluster.config(2).self(), MessageType.COMMIT_IMAGE,
                    new ImageMessages.CommitImage(name, root, new ImageMessages.CallId(call.clientId(), 2)).encode());
            assertEquals(ErrorCode.EXISTS, Messages.Error.decode(other.header()).code());

            ByteBuffer delete = new ImageMessages.DeleteImage(name, new ImageMessages.CallId(call.clientId(), 3)).encode();
            long deleted = Messages.decodeLong(call(cluster.config(2).self(), MessageType.DELETE_IMAGE, delete).header());
            long deletedAgain = Messages.decodeLong(call(cluster.config(0).self(), MessageType.DELETE_IMAGE, delete).header());
            assertEquals(deleted, deletedAgain, "a retried delete gets the first result, not NOT_FOUND");
            assertEquals(0, client.list("retried/").size());
        }
    }

    /** One request over a plain socket: the test's own minimal client. */
    static Frame call(NodeAddress node, MessageType type, ByteBuffer header) throws IOException {
        try (Socket socket = new Socket(node.host(), node.port())) {
            OutputStream out = socket.getOutputStream();
            ByteBuffer frame = Frame.request(type, 42, header.duplicate(), null).encode(Limits.DEFAULT_MAX_FRAME_BYTES);
            out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] body = new byte[in.readInt()];
            in.readFully(body);
            Frame reply = Frame.decodeBody(ByteBuffer.wrap(body), Limits.DEFAULT_MAX_FRAME_BYTES);
            assertEquals(42, reply.requestId());
            return reply;
        }
    }
}
