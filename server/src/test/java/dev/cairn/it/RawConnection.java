package dev.cairn.it;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.protocol.Frame;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;

/** A plain socket to a node that sends and reads frames byte by byte, for tests of the wire itself. */
final class RawConnection implements AutoCloseable {

    static final int MAX = Limits.DEFAULT_MAX_FRAME_BYTES;

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;

    RawConnection(NodeAddress node) throws IOException {
        socket = new Socket(node.host(), node.port());
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    void send(Frame frame) throws IOException {
        send(frame.encode(MAX));
    }

    /** Sends encoded frame bytes as they are (a test may have altered them). */
    void send(ByteBuffer encoded) throws IOException {
        out.write(encoded.array(), encoded.arrayOffset() + encoded.position(), encoded.remaining());
        out.flush();
    }

    Frame read() throws IOException {
        int length = in.readInt();
        byte[] body = new byte[length];
        in.readFully(body);
        return Frame.decodeBody(ByteBuffer.wrap(body), MAX);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
