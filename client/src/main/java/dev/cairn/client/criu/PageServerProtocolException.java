package dev.cairn.client.criu;

import java.io.IOException;

/** A page-server stream that breaks CRIU's protocol: truncated, corrupt, or beyond a limit. */
public final class PageServerProtocolException extends IOException {

    private final long streamOffset;

    public PageServerProtocolException(long streamOffset, String message) {
        super(message + " (at byte " + streamOffset + " of the page-server stream)");
        this.streamOffset = streamOffset;
    }

    /** How many bytes of the stream came before the fault. */
    public long streamOffset() {
        return streamOffset;
    }
}
