package dev.cairn.server.net;

import dev.cairn.protocol.Frame;
import java.util.concurrent.CompletableFuture;

/**
 * Answers requests of one message type. The frame's buffers stay valid until the returned future
 * completes. A failure, thrown or in the future, becomes an ERROR answer in {@link RequestHandler}.
 */
@FunctionalInterface
interface Responder {
    CompletableFuture<RequestHandler.Response> answer(Frame request);
}
