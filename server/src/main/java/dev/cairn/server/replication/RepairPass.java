package dev.cairn.server.replication;

import static dev.cairn.server.replication.Replicator.MAX_PUSH_BYTES;
import static dev.cairn.server.replication.Replicator.PEER_TIMEOUT_SECONDS;
import static dev.cairn.server.replication.Replicator.await;

import dev.cairn.client.ChunkPeers;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.protocol.ReplicationMessages.RepairReport;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkCorruptException;
import dev.cairn.server.store.ChunkStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One repair walk over the local chunks, a page at a time: asks each chunk's other placement nodes
 * whether they hold it, counts it if this node is the first placement node holding it, and sends
 * copies to the placement nodes that lack it. Used by one thread, under the replicator's pass lock.
 */
final class RepairPass {

    /** The replicator's log, which operators know these lines by. */
    private static final Logger LOG = LoggerFactory.getLogger(Replicator.class);

    private final String self;
    private final ChunkStore store;
    private final Supplier<ChunkPeers> peers;
    private final NodeMetrics metrics;
    /** For copies read out of a pack (RAW); the replicator's, used under its pass lock only. */
    private final ChunkEncoder encoder;

    private long scanned;
    private long belowN;
    private long belowW;
    private long copies;
    private long bytes;
    private long dropped;
    private final Set<String> unreachable = new HashSet<>();

    RepairPass(String self, ChunkStore store, Supplier<ChunkPeers> peers, NodeMetrics metrics, ChunkEncoder encoder) {
        this.self = self;
        this.store = store;
        this.peers = peers;
        this.metrics = metrics;
        this.encoder = encoder;
    }

    /** What this pass found and did, for a pass that ended at {@code finishedAtMillis}. */
    RepairReport report(long finishedAtMillis, long durationMillis) {
        return new RepairReport(self, scanned, belowN, belowW, copies, bytes, unreachable.size(), finishedAtMillis,
                durationMillis, dropped);
    }

    /** Counts and repairs one page of local chunk ids. */
    void step(List<ChunkId> ids) {
        long scannedBefore = scanned;
        ChunkPeers cluster = peers.get();
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
        Set<String> reachable = new HashSet<>();
        List<Set<String>> holders = holders(cluster, ids, askByPeer, reachable);
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

    /**
     * Asks each peer about the chunks of {@code askByPeer} (indexes into {@code ids}) at once;
     * returns, per chunk, the placement nodes known to hold it (this node included), and adds the
     * peers that answered to {@code reachable}, the others to this pass's unreachable ones.
     */
    private List<Set<String>> holders(ChunkPeers cluster, List<ChunkId> ids, Map<String, List<Integer>> askByPeer,
                                      Set<String> reachable) {
        Map<String, CompletableFuture<boolean[]>> answers = new HashMap<>();
        askByPeer.forEach((peer, indexes) -> {
            List<ChunkId> asked = new ArrayList<>(indexes.size());
            indexes.forEach(i -> asked.add(ids.get(i)));
            answers.put(peer, cluster.has(peer, asked));
        });
        List<Set<String>> holders = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            Set<String> h = new HashSet<>();
            h.add(self);
            holders.add(h);
        }
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
        return holders;
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
}
