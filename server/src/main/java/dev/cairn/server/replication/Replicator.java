package dev.cairn.server.replication;

import dev.cairn.protocol.ChunkMessages;
import dev.cairn.client.ChunkPeers;
import dev.cairn.config.NodeConfig;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.protocol.ReplicationMessages.RepairReport;
import dev.cairn.protocol.ReplicationMessages.ScrubReport;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkCorruptException;
import dev.cairn.server.store.ChunkStore;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * Anti-entropy for one node: walks the chunks this node holds, asks their other placement nodes
 * whether they hold them too, counts the chunks below N and below N_W, and sends copies to the
 * placement nodes that lack them. Each chunk is counted and repaired by one node only, the first
 * of its placement nodes that holds it, so passes on all nodes neither double-count nor send a
 * copy twice.
 *
 * <p>Also the scrubber: re-reads and re-hashes every local chunk and replaces a bad one with a
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
    private volatile RepairReport last;

    public Replicator(NodeConfig config, ChunkStore store, Supplier<ChunkPeers> peers, NodeMetrics metrics,
                      ClientTraffic clientTraffic) {
        this.metrics = metrics;
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
            long start = System.currentTimeMillis();
            refreshMembership();
            Pass pass = new Pass();
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
            long end = System.currentTimeMillis();
            RepairReport report = new RepairReport(config.nodeId(), pass.scanned, pass.belowN, pass.belowW,
                    pass.copies, pass.bytes, pass.unreachable.size(), end, end - start, pass.dropped);
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

    /** One walk over the local chunks. */
    private final class Pass {
        long scanned;
        long belowN;
        long belowW;
        long copies;
        long bytes;
        long dropped;
        final Set<String> unreachable = new HashSet<>();

        void step(List<ChunkId> ids) {
            long scannedBefore = scanned;
            ChunkPeers cluster = peers.get();
            String self = config.nodeId();
            int n = cluster.replicas();
            List<List<String>> placements = new ArrayList<>(ids.size());
            Map<String, List<Integer>> askByPeer = new HashMap<>();
            for (int i = 0; i < ids.size(); i++) {
                List<String> placement = cluster.placement().nodesFor(ids.get(i), n);
                placements.add(placement);
                for (String node : placement) {
                    if (!node.equals(self)) {
                        askByPeer.computeIfAbsent(node, k -> new ArrayList<>()).add(i);
                    }
                }
            }
            Map<String, CompletableFuture<boolean[]>> answers = new HashMap<>();
            askByPeer.forEach((peer, indexes) -> {
                List<ChunkId> asked = new ArrayList<>(indexes.size());
                indexes.forEach(i -> asked.add(ids.get(i)));
                answers.put(peer, cluster.has(peer, asked));
            });
            // holders.get(i) = the placement nodes known to hold chunk i (this node included).
            List<Set<String>> holders = new ArrayList<>(ids.size());
            for (int i = 0; i < ids.size(); i++) {
                Set<String> h = new HashSet<>();
                h.add(self);
                holders.add(h);
            }
            Set<String> reachable = new HashSet<>();
            answers.forEach((peer, future) -> {
                boolean[] present = await(future, peer);
                if (present == null) {
                    unreachable.add(peer);
                    return;
                }
                reachable.add(peer);
                List<Integer> indexes = askByPeer.get(peer);
                for (int k = 0; k < indexes.size(); k++) {
                    if (present[k]) {
                        holders.get(indexes.get(k)).add(peer);
                    }
                }
            });
            Map<String, List<ChunkId>> push = new HashMap<>();
            for (int i = 0; i < ids.size(); i++) {
                List<String> placement = placements.get(i);
                Set<String> h = holders.get(i);
                String first = placement.stream().filter(h::contains).findFirst().orElse(self);
                if (!first.equals(self)) {
                    // Counted and repaired by the first placement node that holds it. A copy here,
                    // on a node that is not one of its placement nodes (it moved after a membership
                    // change), goes once every placement node has confirmed a durable copy: the
                    // chunk keeps N copies without this one.
                    if (!placement.contains(self) && placement.size() == n && placement.stream().allMatch(h::contains)) {
                        dropSurplus(ids.get(i));
                    }
                    continue;
                }
                scanned++;
                long copiesOnPlacement = placement.stream().filter(h::contains).count();
                if (copiesOnPlacement < n) {
                    belowN++;
                }
                if (copiesOnPlacement < cluster.writeQuorum()) {
                    belowW++;
                }
                for (String node : placement) {
                    if (!h.contains(node) && reachable.contains(node)) {
                        push.computeIfAbsent(node, k -> new ArrayList<>()).add(ids.get(i));
                    }
                }
            }
            // Progress as the pass goes, not only in its report: a pass over millions of chunks is long.
            metrics.repairChecked(scanned - scannedBefore);
            push.forEach((peer, missing) -> send(cluster, peer, missing));
        }

        private void dropSurplus(ChunkId id) {
            try {
                if (store.delete(id)) {
                    dropped++;
                }
            } catch (IOException e) {
                LOG.warn("cannot drop surplus copy of chunk {}: {}", id.shortHex(), e.toString());
            }
        }

        private void send(ChunkPeers cluster, String peer, List<ChunkId> missing) {
            List<ChunkData> batch = new ArrayList<>();
            long batchBytes = 0;
            for (ChunkId id : missing) {
                Optional<ChunkData> chunk = readLocal(id);
                if (chunk.isEmpty()) {
                    continue; // deleted or corrupt here since the page was read: not ours to send
                }
                // A chunk read out of a pack comes back RAW: copied as it is, it would rest uncompressed.
                ChunkData copy = encoder.encode(chunk.get());
                batch.add(copy);
                batchBytes += copy.storedLength();
                if (batchBytes >= MAX_PUSH_BYTES) {
                    flush(cluster, peer, batch, batchBytes);
                    batch = new ArrayList<>();
                    batchBytes = 0;
                }
            }
            flush(cluster, peer, batch, batchBytes);
        }

        private void flush(ChunkPeers cluster, String peer, List<ChunkData> batch, long batchBytes) {
            if (batch.isEmpty()) {
                return;
            }
            try {
                // Counted only once the peer answered, i.e. after its fdatasync covered the copies.
                cluster.put(peer, batch).get(PEER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                copies += batch.size();
                bytes += batchBytes;
                metrics.repairCopied(batch.size(), batchBytes);
            } catch (ExecutionException | TimeoutException e) {
                unreachable.add(peer);
                LOG.debug("repair copies to {} failed: {}", peer, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during repair");
            }
        }
    }

    private Optional<ChunkData> readLocal(ChunkId id) {
        try {
            Optional<ChunkData> chunk = store.read(id);
            return chunk.filter(ChunkData::verify);
        } catch (ChunkCorruptException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.warn("cannot read chunk {} for repair: {}", id.shortHex(), e.toString());
            return Optional.empty();
        }
    }

    private static <T> T await(CompletableFuture<T> future, String peer) {
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
        return asOperator(this::scrub);
    }

    private ScrubReport scrub() {
        long start = System.currentTimeMillis();
        long checked = 0;
        long corrupt = 0;
        long repaired = 0;
        long unrepairable = 0;
        ChunkId after = null;
        while (true) {
            List<ChunkId> ids = store.idsAfter(after, PAGE);
            if (ids.isEmpty()) {
                break;
            }
            long corruptBefore = corrupt;
            for (ChunkId id : ids) {
                checked++;
                if (isIntact(id)) {
                    continue;
                }
                corrupt++;
                if (replaceFromPeer(id)) {
                    repaired++;
                } else {
                    unrepairable++;
                }
            }
            metrics.scrubChecked(ids.size(), corrupt - corruptBefore);
            after = ids.get(ids.size() - 1);
        }
        return new ScrubReport(config.nodeId(), checked, corrupt, repaired, unrepairable,
                System.currentTimeMillis() - start);
    }

    private boolean isIntact(ChunkId id) {
        try {
            Optional<ChunkData> chunk = store.read(id);
            return chunk.isEmpty() || chunk.get().verify(); // absent: deleted meanwhile, nothing to check
        } catch (ChunkCorruptException e) {
            return false;
        } catch (IOException | RuntimeException e) {
            LOG.warn("scrub cannot read chunk {}: {}", id.shortHex(), e.toString());
            return false;
        }
    }

    private boolean replaceFromPeer(ChunkId id) {
        ChunkPeers cluster = peers.get();
        // The placement nodes first (the likeliest holders), then every other member (a leaving one).
        List<String> order = new ArrayList<>(cluster.placement().nodesFor(id, cluster.placement().nodeIds().size()));
        cluster.nodeIds().stream().filter(n -> !order.contains(n)).forEach(order::add);
        for (String node : order) {
            if (node.equals(config.nodeId())) {
                continue;
            }
            List<ChunkMessages.Fetched> fetched = await(cluster.get(node, List.of(id)), node);
            if (fetched == null || fetched.get(0).status() != ChunkMessages.ChunkStatus.OK || !fetched.get(0).data().verify()) {
                continue;
            }
            try {
                store.delete(id);
                store.append(List.of(encoder.encode(copyOf(fetched.get(0).data())))).get(PEER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                LOG.warn("scrub replaced corrupt chunk {} with a verified copy from {}", id.shortHex(), node);
                return true;
            } catch (IOException | ExecutionException | TimeoutException e) {
                LOG.warn("scrub could not rewrite chunk {}: {}", id.shortHex(), e.toString());
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        LOG.error("scrub found chunk {} corrupt and no peer has a good copy", id.shortHex());
        return false;
    }

    private static ChunkData copyOf(ChunkData c) {
        byte[] bytes = new byte[c.storedLength()];
        c.bytes().duplicate().get(bytes);
        return new ChunkData(c.id(), c.codec(), c.rawLength(), java.nio.ByteBuffer.wrap(bytes));
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        synchronized (passLock) {
            encoder.close();
        }
    }
}
