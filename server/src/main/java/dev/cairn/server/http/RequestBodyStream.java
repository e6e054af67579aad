package dev.cairn.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;

/**
 * An HTTP request body as an InputStream for a worker thread. The event loop offers the body's
 * pieces; when more than {@link #HIGH_WATER_BYTES} wait unread, the channel stops reading from the
 * socket until the reader has caught up, so a fast sender cannot fill the heap.
 */
final class RequestBodyStream extends InputStream {

    static final int HIGH_WATER_BYTES = 8 * 1024 * 1024;
    static final int LOW_WATER_BYTES = 2 * 1024 * 1024;

    private final Channel channel;
    private final ArrayDeque<ByteBuf> pieces = new ArrayDeque<>();
    private long buffered;
    private boolean ended;
    private IOException failure;

    RequestBodyStream(Channel channel) {
        this.channel = channel;
    }

    /** Called on the event loop with a retained piece of the body. */
    synchronized void offer(ByteBuf piece) {
        if (ended) {
            piece.release();
            return;
        }
        pieces.add(piece);
        buffered += piece.readableBytes();
        if (buffered > HIGH_WATER_BYTES) {
            channel.config().setAutoRead(false);
        }
        notifyAll();
    }

    /** The whole body has arrived. */
    synchronized void end() {
        ended = true;
        notifyAll();
    }

    /** The reason the body broke off, or null while it is whole. */
    synchronized IOException failure() {
        return failure;
    }

    /** The connection broke, or the body's framing did, before the body ended. */
    synchronized void fail(IOException cause) {
        failure = cause;
        ended = true;
        notifyAll();
    }

    @Override
    public synchronized int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pieces.isEmpty()) {
            if (failure != null) {
                throw failure;
            }
            if (ended) {
                return -1;
            }
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while reading the request body");
            }
        }
        ByteBuf head = pieces.peek();
        int n = Math.min(len, head.readableBytes());
        head.readBytes(b, off, n);
        buffered -= n;
        if (!head.isReadable()) {
            pieces.poll().release();
        }
        if (buffered < LOW_WATER_BYTES && !channel.config().isAutoRead()) {
            channel.eventLoop().execute(() -> {
                channel.config().setAutoRead(true);
                channel.read();
            });
        }
        return n;
    }

    /** Releases what is left; the stream ends. */
    @Override
    public synchronized void close() {
        ended = true;
        while (!pieces.isEmpty()) {
            pieces.poll().release();
        }
        buffered = 0;
        notifyAll();
    }
}
