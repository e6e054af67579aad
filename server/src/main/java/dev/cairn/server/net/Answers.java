package dev.cairn.server.net;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Small helpers the per-area responders share. */
final class Answers {

    private Answers() {
    }

    interface IoCall<T> {
        T call() throws IOException;
    }

    /** An I/O failure as the CompletionException that {@link RequestHandler#toError} maps to STORAGE_FAILED. */
    static <T> T io(IoCall<T> call) {
        try {
            return call.call();
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }

    static CompletableFuture<RequestHandler.Response> done(RequestHandler.Response r) {
        return CompletableFuture.completedFuture(r);
    }

    /** The failure inside the completion and execution wrappers of futures. */
    static Throwable unwrapped(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
