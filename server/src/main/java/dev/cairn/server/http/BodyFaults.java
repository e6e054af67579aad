package dev.cairn.server.http;

import io.netty.handler.codec.PrematureChannelClosureException;

/** What to tell an HTTP client whose request body the decoder could not read to its end. */
final class BodyFaults {

    private BodyFaults() {
    }

    static final String ENDED_EARLY = "the request body ended before its Content-Length or last chunk;"
            + " nothing was stored: send the whole body again";

    static String describe(Throwable cause) {
        if (cause instanceof PrematureChannelClosureException) {
            return ENDED_EARLY;
        }
        String detail = cause == null || cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")";
        return "the request body's chunked encoding is broken" + detail
                + "; nothing was stored: send the body again with valid chunk-size lines";
    }
}
