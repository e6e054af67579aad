package dev.cairn.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Jepsen's nemesis: a thread that injects one fault at a time, holds it, heals it, and waits.
 * The kinds come in shuffled rounds (every kind once per round); the order, the victims and the
 * timings all come from the seed.
 */
final class Nemesis implements Runnable {

    enum Kind {
        /** SIGKILL one node; start it again at the heal. */
        kill,
        /** docker pause (SIGSTOP of the cgroup) one node. */
        pause,
        /** Cut the nodes in two sides (one against the rest: minority/majority), or a bridge on 5 nodes. */
        partition,
        /** SIGKILL every node, then start them all. */
        restart_all
    }

    private final ChaosCluster cluster;
    private final History history;
    private final Random random;
    private final List<Kind> kinds;
    private final Duration quiet;
    private final Duration hold;
    private volatile boolean stop;
    private volatile Throwable failure;
    private final List<String> done = Collections.synchronizedList(new ArrayList<>());

    Nemesis(ChaosCluster cluster, History history, long seed, List<Kind> kinds, Duration quiet, Duration hold) {
        this.cluster = cluster;
        this.history = history;
        this.random = new Random(seed ^ 0x6e656d65L);
        this.kinds = kinds;
        this.quiet = quiet;
        this.hold = hold;
    }

    void stop() {
        stop = true;
    }

    Throwable failure() {
        return failure;
    }

    /** What was done, e.g. "kill node-2", in order. */
    List<String> actions() {
        return List.copyOf(done);
    }

    @Override
    public void run() {
        try {
            List<Kind> round = new ArrayList<>();
            while (!stop) {
                sleep(jitter(quiet));
                if (stop) {
                    break;
                }
                if (round.isEmpty()) {
                    round.addAll(kinds);
                    Collections.shuffle(round, random);
                }
                inject(round.remove(0));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failure = t;
            history.nemesis("nemesis failed: " + t);
        }
    }

    private void inject(Kind kind) throws Exception {
        int n = cluster.size();
        int victim = random.nextInt(n);
        String what;
        switch (kind) {
            case kill -> {
                what = "kill node-" + (victim + 1);
                record("start " + what);
                cluster.kill(victim);
                sleep(jitter(hold));
                cluster.restart(victim);
            }
            case pause -> {
                what = "pause node-" + (victim + 1);
                record("start " + what);
                String how = cluster.pause(victim);
                if (!how.equals("docker pause")) {
                    record("paused node-" + (victim + 1) + " by " + how);
                }
                sleep(jitter(hold));
                cluster.unpause(victim);
            }
            case partition -> {
                List<Integer> nodes = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    nodes.add(i);
                }
                Collections.shuffle(nodes, random);
                List<Integer> a;
                List<Integer> b;
                if (n >= 5 && random.nextBoolean()) {
                    // bridge: two halves that both still see the middle node
                    int half = (n - 1) / 2;
                    a = nodes.subList(0, half);
                    b = nodes.subList(half + 1, n);
                    what = "partition bridge " + names(a) + " | node-" + (nodes.get(half) + 1) + " | " + names(b);
                } else {
                    int minority = n >= 5 ? 1 + random.nextInt((n - 1) / 2) : 1;
                    a = nodes.subList(0, minority);
                    b = nodes.subList(minority, n);
                    what = "partition " + names(a) + " | " + names(b);
                }
                record("start " + what);
                cluster.partition(List.copyOf(a), List.copyOf(b));
                sleep(jitter(hold));
                cluster.healPartition();
            }
            case restart_all -> {
                what = "restart all nodes";
                record("start " + what);
                for (int i = 0; i < n; i++) {
                    cluster.kill(i);
                }
                sleep(Duration.ofSeconds(1));
                for (int i = 0; i < n; i++) {
                    cluster.restart(i);
                }
            }
            default -> throw new IllegalStateException(kind.toString());
        }
        record("healed " + what);
        done.add(what);
    }

    private void record(String what) {
        history.nemesis(what);
        System.out.println("chaos: nemesis " + what);
    }

    private static String names(List<Integer> nodes) {
        return nodes.stream().sorted().map(i -> "node-" + (i + 1)).reduce((x, y) -> x + "," + y).orElse("");
    }

    /** Between 0.5x and 1.5x of {@code d}. */
    private Duration jitter(Duration d) {
        return Duration.ofMillis(d.toMillis() / 2 + (long) (random.nextDouble() * d.toMillis()));
    }

    /** Sleeps {@code d}, or less when the run is stopping (a fault in force is then healed at once). */
    private void sleep(Duration d) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        while (!stop && System.nanoTime() < end) {
            Thread.sleep(Math.min(100, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
        }
    }
}
