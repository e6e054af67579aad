package dev.cairn.server.replication;

import dev.cairn.protocol.ChunkMessages;
import static dev.cairn.server.replication.Replicator.PAGE;
import static dev.cairn.server.replication.Replicator.PEER_TIMEOUT_SECONDS;
import static dev.cairn.server.replication.Replicator.await;

import dev.cairn.client.ChunkPeers;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.Clock;
import dev.cairn.protocol.ReplicationMessages.ScrubReport;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkCorruptException;
import dev.cairn.server.store.ChunkStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scrubber: re-reads and re-hashes every local chunk and replaces a bad one with a verified
 * copy from a peer. Runs under the replicator's pass lock, which also guards the encoder.
 */
final class Scrubber {

    /** The replicator's log, which operators know these lines by. */
    private static final Logger LOG = LoggerFactory.getLogger(Replicator.class);

    private final String self;
    private final ChunkStore store;
    private final Supplier<ChunkPeers> peers;
    private final NodeMetrics metrics;
    private final ChunkEncoder encoder;
    private final Clock clock;

    Scrubber(String self, ChunkStore store, Supplier<ChunkPeers> peers, NodeMetrics metrics, ChunkEncoder encoder,
             Clock clock) {
        this.self = self;
        this.store = store;
        this.peers = peers;
        this.metrics = metrics;
        this.encoder = encoder;
        this.clock = clock;
    }

    /** One scrub of every local chunk. */
    ScrubReport scrub() {
        long start = clock.millis();
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
        return new ScrubReport(self, checked, corrupt, repaired, unrepairable, clock.millis() - start);
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
            if (node.equals(self)) {
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
        return new ChunkData(c.id(), c.codec(), c.rawLength(), ByteBuffer.wrap(bytes));
    }
}
