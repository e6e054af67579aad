package dev.cairn.chaos;

import dev.cairn.client.CairnClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Jepsen's generator and its workers: {@code clients} threads, each with its own connection and a
 * random stream seeded from the run's seed, issue puts of new images (50%), gets of any image
 * put so far (35%) and deletes of acknowledged images (15%) until the time is up. Beside them,
 * one more process ({@code gc}) runs a GC epoch every few seconds, so that sweeps race puts,
 * deletes and faults.
 */
final class Workload {

    private final ChaosCluster cluster;
    private final History history;
    private final ImageGenerator images;
    private final long seed;
    private final int clients;
    private final Duration requestTimeout;
    private final Duration gcEvery;
    private final List<String> invoked = new ArrayList<>();
    private final List<String> deletable = new ArrayList<>();
    private volatile boolean stop;

    /** {@code gcEvery}: the mean pause between GC epochs. */
    Workload(ChaosCluster cluster, History history, ImageGenerator images, long seed, int clients, Duration requestTimeout,
             Duration gcEvery) {
        this.cluster = cluster;
        this.history = history;
        this.images = images;
        this.seed = seed;
        this.clients = clients;
        this.requestTimeout = requestTimeout;
        this.gcEvery = gcEvery;
    }

    /** Runs the workers for {@code duration}, then waits for their last operations to finish. */
    void run(Duration duration) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < clients; w++) {
            int worker = w;
            Thread t = new Thread(() -> work(worker), "chaos-client-" + w);
            threads.add(t);
            t.start();
        }
        Thread gc = new Thread(this::collectGarbage, "chaos-gc");
        threads.add(gc);
        gc.start();
        Thread.sleep(duration.toMillis());
        stop = true;
        for (Thread t : threads) {
            t.join();
        }
    }

    private void work(int worker) {
        Random random = new Random(seed + 1000L * (worker + 1));
        String process = "client-" + worker;
        int counter = 0;
        try (CairnClient client = cluster.client(requestTimeout)) {
            CairnOps op = new CairnOps(history, process, client);
            while (!stop) {
                int dice = random.nextInt(100);
                if (dice < 50 || invokedSize() == 0) {
                    String name = "w" + worker + "/img-" + (counter++);
                    synchronized (this) {
                        invoked.add(name);
                    }
                    if (op.put(name, images.bytes(name))) {
                        synchronized (this) {
                            deletable.add(name);
                        }
                    } else {
                        backOff();
                    }
                } else if (dice < 85) {
                    String name;
                    synchronized (this) {
                        name = invoked.get(random.nextInt(invoked.size()));
                    }
                    if (op.get(name).outcome() == CairnOps.Outcome.ERROR) {
                        backOff();
                    }
                } else {
                    String name;
                    synchronized (this) {
                        if (deletable.isEmpty()) {
                            continue;
                        }
                        name = deletable.remove(random.nextInt(deletable.size()));
                    }
                    if (op.delete(name) == History.Type.info) {
                        backOff();
                    }
                }
            }
        } catch (RuntimeException e) {
            // connecting failed (every node unreachable at that moment): this worker ends; the history says so
            history.add(process, History.Type.info, "worker-ended", null, null, 0, CairnOps.message(e));
        }
    }

    /** The {@code gc} process: an epoch, a seeded pause of 0.5 to 1.5 times {@code gcEvery}, again. */
    private void collectGarbage() {
        Random random = new Random(seed + 7);
        String process = "gc";
        try (CairnClient client = cluster.client(requestTimeout)) {
            CairnOps op = new CairnOps(history, process, client);
            while (!stop) {
                long pause = (long) (gcEvery.toMillis() * (0.5 + random.nextDouble()));
                for (long end = System.currentTimeMillis() + pause; !stop && System.currentTimeMillis() < end; ) {
                    Thread.sleep(100);
                }
                if (!stop) {
                    // Sessions older than the epoch get 10 s: puts here take well under that.
                    op.gc(Duration.ofSeconds(10));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            history.add(process, History.Type.info, "worker-ended", null, null, 0, CairnOps.message(e));
        }
    }

    /**
     * After an error a client waits a second, as a real agent would: with every node down, errors
     * come back at once, and thousands of them a second would starve the restarting nodes of CPU.
     */
    private static void backOff() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized int invokedSize() {
        return invoked.size();
    }

    synchronized List<String> invokedNames() {
        return List.copyOf(invoked);
    }
}
