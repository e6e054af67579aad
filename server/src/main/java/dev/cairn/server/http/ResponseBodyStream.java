package dev.cairn.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.io.OutputStream;

/**
 * An HTTP response body written by a worker thread with chunked transfer encoding. The response
 * head goes out with the first bytes, so a failure before any byte can still become an error
 * response. A worker blocks while the channel is not writable: memory stays bounded by Netty's
 * write-buffer water marks plus one piece.
 */
final class ResponseBodyStream extends OutputStream {

    static final int PIECE_BYTES = 256 * 1024;

    private final Channel channel;
    private final HttpResponse head;
    private ByteBuf piece = Unpooled.buffer(PIECE_BYTES);
    private boolean headSent;
    private boolean closed;

    ResponseBodyStream(Channel channel, HttpResponse head) {
        this.channel = channel;
        this.head = head;
    }

    /** True once the status line has been sent: an error after that can only cut the stream. */
    boolean started() {
        return headSent;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, piece.writableBytes());
            piece.writeBytes(b, off, n);
            off += n;
            len -= n;
            if (!piece.isWritable()) {
                flushPiece();
            }
        }
    }

    private void flushPiece() throws IOException {
        sendHead();
        if (!piece.isReadable()) {
            return;
        }
        ChannelFuture f = channel.writeAndFlush(new DefaultHttpContent(piece));
        piece = Unpooled.buffer(PIECE_BYTES);
        if (!channel.isWritable()) {
            f.awaitUninterruptibly();
        }
        if (!channel.isActive()) {
            throw new IOException("the HTTP client closed the connection");
        }
    }

    private void sendHead() {
        if (!headSent) {
            headSent = true;
            channel.write(head);
        }
    }

    /** Sends what is buffered and ends the response. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        flushPiece();
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).awaitUninterruptibly();
    }
}
