package dev.cairn.client.criu;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Serves a given number of lazy restores of one image from one listener: each {@code criu
 * lazy-pages} connection is answered on its own thread, at most {@link
 * PageServerLimits#maxLazyRestores()} at once (a connection past the cap waits in the listen queue
 * until a conversation ends), and the listener closes once the last one has been accepted.
 */
public final class LazyRestores {

    /** How the restores went: how many conversations ended with lazy-pages' close, how many otherwise. */
    public record Outcome(int restores, int failed) {
        /** True when every restore closed its conversation as lazy-pages does after its last page. */
        public boolean allClosed() {
            return failed == 0;
        }
    }

    private LazyRestores() {}

    /**
     * Accepts {@code restores} connections on {@code listener} (each within the limits' idle
     * timeout of the one before, or of the start) and serves each with {@code server}; returns
     * once every conversation has ended. A conversation that fails does not stop the others.
     */
    public static Outcome serve(PageServerListener listener, LazyPageServer server, int restores,
                                PageServerLimits limits, PrintStream log) throws IOException {
        if (restores < 1) {
            throw new IllegalArgumentException("at least one restore must be served, not " + restores);
        }
        int threads = Math.min(restores, limits.maxLazyRestores());
        Semaphore slots = new Semaphore(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "cairn-lazy-restore");
            t.setDaemon(true);
            return t;
        });
        List<Future<Boolean>> conversations = new ArrayList<>(restores);
        try (listener) {
            for (int i = 1; i <= restores; i++) {
                acquire(slots);
                Socket connection;
                try {
                    connection = listener.tryAccept(limits.idleTimeout());
                } catch (IOException e) {
                    slots.release();
                    throw e;
                }
                if (connection == null) {
                    slots.release();
                    log.println("cairn: restore " + i + " of " + restores + " did not connect within "
                            + limits.idleTimeout().toSeconds() + " s; no more are awaited (check that each criu "
                            + "lazy-pages was given --page-server --port " + listener.port() + ")");
                    break;
                }
                int number = i;
                conversations.add(pool.submit(() -> {
                    try {
                        return server.serve(connection);
                    } catch (IOException | RuntimeException e) {
                        log.println("cairn: restore " + number + " of " + restores + " ended: " + e.getMessage());
                        return false;
                    } finally {
                        slots.release();
                    }
                }));
            }
        } finally {
            pool.shutdown();
        }
        int failed = restores - conversations.size();
        for (Future<Boolean> c : conversations) {
            if (!await(c)) {
                failed++;
            }
        }
        return new Outcome(restores, failed);
    }

    private static void acquire(Semaphore slots) throws IOException {
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for a restore to end");
        }
    }

    private static boolean await(Future<Boolean> conversation) throws IOException {
        try {
            return conversation.get();
        } catch (ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while a restore was served");
        }
    }
}
