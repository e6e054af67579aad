package dev.cairn.server.net;

import dev.cairn.protocol.Frame;
import dev.cairn.server.auth.Principal;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/**
 * Answers requests of one message type. The frame's buffers stay valid until the returned future
 * completes. A failure, thrown or in the future, becomes an ERROR answer in {@link RequestHandler}.
 */
@FunctionalInterface
interface Responder {
    CompletableFuture<RequestHandler.Response> answer(Frame request);

    /**
     * Answers {@code request} of {@code principal}, whom the request guard has admitted already.
     * Only a responder whose answer depends on who asks (the listing: a token's prefixes narrow it)
     * looks at the principal.
     */
    default CompletableFuture<RequestHandler.Response> answer(Frame request, Principal principal) {
        return answer(request);
    }

    /** A responder whose answer depends on who asks; asked without a principal it refuses, never answers for everyone. */
    static Responder forPrincipal(BiFunction<Frame, Principal, CompletableFuture<RequestHandler.Response>> answer) {
        return new Responder() {
            @Override
            public CompletableFuture<RequestHandler.Response> answer(Frame request) {
                throw new IllegalStateException(request.type() + " is answered only for the principal that sent it");
            }

            @Override
            public CompletableFuture<RequestHandler.Response> answer(Frame request, Principal principal) {
                return answer.apply(request, principal);
            }
        };
    }
}
