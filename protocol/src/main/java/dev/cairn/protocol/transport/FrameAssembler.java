package dev.cairn.protocol.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Cuts a connection's bytes into frames (a 4-byte length, then that many bytes), copying each
 * frame's bytes once, as they arrive, into a heap array of the frame's exact length, which it
 * passes on. Netty's length-field decoder gathered a frame in a buffer it grew as bytes came in:
 * for a GET answer of a few MiB (a pack's pages come back raw) every growth was a fresh direct
 * buffer, zeroed, and the whole frame was copied to the heap once more at the end; in a profile of
 * gets that was more of the receiving node's CPU than hashing the pages.
 */
public final class FrameAssembler extends ChannelInboundHandlerAdapter {

    private static final int LENGTH_BYTES = 4;

    private final int maxFrameBytes;
    private int length;
    private int lengthBytesRead;
    private byte[] body;
    private int bodyBytesRead;

    /** @param maxFrameBytes the longest frame accepted, its length field included */
    public FrameAssembler(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            while (in.isReadable()) {
                if (body == null) {
                    while (lengthBytesRead < LENGTH_BYTES && in.isReadable()) {
                        length = (length << 8) | in.readUnsignedByte();
                        lengthBytesRead++;
                    }
                    if (lengthBytesRead < LENGTH_BYTES) {
                        return;
                    }
                    if (length < 0 || (long) length + LENGTH_BYTES > maxFrameBytes) {
                        throw new TooLongFrameException("a frame of " + Integer.toUnsignedLong(length)
                                + " bytes is over the limit of " + maxFrameBytes);
                    }
                    body = new byte[length];
                    bodyBytesRead = 0;
                }
                int n = Math.min(body.length - bodyBytesRead, in.readableBytes());
                in.readBytes(body, bodyBytesRead, n);
                bodyBytesRead += n;
                if (bodyBytesRead == body.length) {
                    byte[] frame = body;
                    body = null;
                    length = 0;
                    lengthBytesRead = 0;
                    ctx.fireChannelRead(frame);
                }
            }
        } finally {
            in.release();
        }
    }
}
