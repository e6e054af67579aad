package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.ClientTestHooks;
import dev.cairn.client.PutResult;
import java.io.ByteArrayInputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A put on its own thread, held after its chunks are durable and before its commit is sent, until
 * the test releases it: so a test can order a GC epoch, a renewal or a fault against the commit.
 * It takes the client's {@code beforeCommit} seam for the put's duration.
 */
final class HeldPut implements AutoCloseable {

    private final CountDownLatch uploaded = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final ExecutorService thread = Executors.newSingleThreadExecutor();
    private final Future<PutResult> put;

    private HeldPut(CairnClient client, String name, byte[] data) {
        ClientTestHooks.beforeCommit(client, session -> {
            uploaded.countDown();
            try {
                if (!release.await(120, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test held the put of " + name + " for 120 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while held before the commit", e);
            }
        });
        put = thread.submit(() -> client.put(name, new ByteArrayInputStream(data)));
    }

    /** Starts putting {@code data} as {@code name} and returns once the put is held before its commit. */
    static HeldPut start(CairnClient client, String name, byte[] data) throws InterruptedException {
        HeldPut held = new HeldPut(client, name, data);
        assertTrue(held.uploaded.await(60, TimeUnit.SECONDS), "the put of " + name + " did not reach its commit in 60 s");
        return held;
    }

    /** Lets the commit go. */
    void release() {
        release.countDown();
    }

    /** The put's outcome, once released. */
    Future<PutResult> result() {
        return put;
    }

    @Override
    public void close() {
        release();
        thread.shutdown();
    }
}
