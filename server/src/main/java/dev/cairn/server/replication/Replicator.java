package dev.cairn.server.replication;

import dev.cairn.client.ChunkPeers;
import dev.cairn.config.NodeConfig;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.Clock;
import dev.cairn.protocol.ReplicationMessages.RepairReport;
import dev.cairn.protocol.ReplicationMessages.ScrubReport;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Anti-entropy for one node: runs its repair passes ({@link RepairPass}) and scrubs
 * ({@link Scrubber}) one at a time, on its own schedule or when an operator asks. A repair pass
 * walks the chunks this node holds, asks their other placement nodes whether they hold them too, counts the chunks below N and below N_W, and sends copies to the
 * placement nodes that lack them. Each chunk is counted and repaired by one node only, the first
 * of its placement nodes that holds it, so passes on all nodes neither double-count nor send a
 * copy twice.
 *
 * <p>The scrubber re-reads and re-hashes every local chunk and replaces a bad one with a
 * verified copy from a peer.
 */
public final class Replicator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Replicator.class);

    /** Chunk ids examined per step: one HAS request per peer per step. */
    static final int PAGE = 512;
    /** Most bytes of copies sent to one peer in one request. */
    static final int MAX_PUSH_BYTES = 4 * 1024 * 1024;
    static final long PEER_TIMEOUT_SECONDS = 60;
    /**
     * A scheduled pass waits for this long without client chunk requests before each step. Long
     * enough to bridge the gaps inside one checkpoint's put or get, short against the minutes
     * between checkpoints.
     */
    static final Duration QUIET_BEFORE_STEP = Duration.ofSeconds(1);
    /** The longest a scheduled pass is held back for clients in all: a busy node still repairs. */
    static final Duration MAX_HELD_PER_PASS = Duration.ofMinutes(10);

    private final NodeConfig config;
    private final ChunkStore store;
    private final Supplier<ChunkPeers> peers;
    private final NodeMetrics metrics;
    private final ClientTraffic clientTraffic;
    private final ScheduledExecutorService scheduler;
    private final Object passLock = new Object();
    /**
     * Operators' passes waiting for {@link #passLock}: while there is one, a scheduled pass that
     * holds the lock stops yielding to clients, so the operator does not wait out its allowance.
     */
    private final java.util.concurrent.atomic.AtomicInteger operatorsWaiting = new java.util.concurrent.atomic.AtomicInteger();
    /** For copies read out of a pack (RAW): used under {@link #passLock} only. */
    private final ChunkEncoder encoder = new ChunkEncoder();
    private final Scrubber scrubber;
    private final Clock clock;
    private volatile RepairReport last;

    public Replicator(NodeConfig config, ChunkStore store, Supplier<ChunkPeers> peers, NodeMetrics metrics,
                      ClientTraffic clientTraffic) {
        this(config, store, peers, metrics, clientTraffic, Clock.SYSTEM);
    }

    /** @param clock stamps and times each pass's report */
    public Replicator(NodeConfig config, ChunkStore store, Supplier<ChunkPeers> peers, NodeMetrics metrics,
                      ClientTraffic clientTraffic, Clock clock) {
        this.metrics = metrics;
        this.clock = clock;
        this.scrubber = new Scrubber(config.nodeId(), store, peers, metrics, encoder, clock);
        this.clientTraffic = clientTraffic;
        this.config = config;
        this.store = store;
        this.peers = peers;
        this.last = RepairReport.none(config.nodeId());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cairn-replicator");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs a pass every {@code periodSeconds}, the first after {@code initialDelaySeconds}. These
     * passes yield to clients (see {@link YieldToClients}).
     */
    public void startBackground(long initialDelaySeconds, long periodSeconds) {
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                repair(new YieldToClients(clientTraffic, QUIET_BEFORE_STEP, MAX_HELD_PER_PASS, d -> Thread.sleep(d.toMillis()),
                        this::operatorWaiting));
            } catch (RuntimeException e) {
                LOG.warn("background repair pass failed: {}", e.toString());
            }
        }, initialDelaySeconds, periodSeconds, TimeUnit.SECONDS);
    }

    /** Runs a repair pass on the replicator's own thread (after any pass in progress). */
    public CompletableFuture<RepairReport> repairAsync() {
        return operatorAsync(this::repairNow);
    }

    /** Runs a scrub on the replicator's own thread (after any pass in progress). */
    public CompletableFuture<ScrubReport> scrubAsync() {
        return operatorAsync(this::scrubNow);
    }

    /**
     * Queues an operator's pass behind the one in progress (the scheduled passes run on the same
     * thread), and tells that one to stop yielding to clients meanwhile.
     */
    private <T> CompletableFuture<T> operatorAsync(Supplier<T> pass) {
        operatorsWaiting.incrementAndGet();
        try {
            return CompletableFuture.supplyAsync(() -> {
                operatorsWaiting.decrementAndGet();
                return pass.get();
            }, scheduler);
        } catch (RuntimeException e) {
            operatorsWaiting.decrementAndGet();
            throw e;
        }
    }

    /** True while an operator's pass waits for the one in progress. */
    boolean operatorWaiting() {
        return operatorsWaiting.get() > 0;
    }

    /** The report of the last finished pass. */
    public RepairReport lastReport() {
        return last;
    }

    /**
     * Runs one pass now (waiting for a running one to end first), without yielding to clients, and
     * returns its report.
     */
    public RepairReport repairNow() {
        return asOperator(() -> repair(null));
    }

    /**
     * Runs an operator's pass under the pass lock, counted as waiting (so that a scheduled pass
     * holding the lock stops yielding) until it has the lock.
     */
    private <T> T asOperator(Supplier<T> pass) {
        operatorsWaiting.incrementAndGet();
        synchronized (passLock) {
            operatorsWaiting.decrementAndGet();
            return pass.get();
        }
    }

    /** One pass; {@code yield}, when given, holds each step back while clients are busy. */
    RepairReport repair(YieldToClients yield) {
        synchronized (passLock) {
            long start = clock.millis();
            refreshMembership();
            RepairPass pass = new RepairPass(config.nodeId(), store, peers, metrics, encoder);
            ChunkId after = null;
            while (true) {
                if (yield != null) {
                    yieldToClients(yield);
                }
                List<ChunkId> ids = store.idsAfter(after, PAGE);
                if (ids.isEmpty()) {
                    break;
                }
                pass.step(ids);
                after = ids.get(ids.size() - 1);
            }
            long end = clock.millis();
            RepairReport report = pass.report(end, end - start);
            last = report;
            return report;
        }
    }

    private void yieldToClients(YieldToClients yield) {
        try {
            Duration waited = yield.beforeStep();
            metrics.repairYielded(waited.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during repair");
        }
    }

    /**
     * Places chunks by the membership the catalog holds now, so that a pass after a node was added
     * or marked leaving copies chunks to their new placement. A failure keeps the last view: this
     * node then repairs by the membership it knew, which is never worse than not repairing.
     */
    private void refreshMembership() {
        try {
            peers.get().refresh();
        } catch (RuntimeException e) {
            LOG.warn("repair pass uses the membership it knew: cannot refresh it: {}", e.toString());
        }
    }

    /** A peer's answer, or null (logged) if it failed or took longer than {@link #PEER_TIMEOUT_SECONDS}. */
    static <T> T await(CompletableFuture<T> future, String peer) {
        try {
            return future.get(PEER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("peer {} failed during repair: {}", peer, e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during repair");
        }
    }

    /** Re-reads and re-hashes every local chunk; replaces bad ones with verified copies from peers. */
    public ScrubReport scrubNow() {
        return asOperator(scrubber::scrub);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        synchronized (passLock) {
            encoder.close();
        }
    }
}
