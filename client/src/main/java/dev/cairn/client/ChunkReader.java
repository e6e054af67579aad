package dev.cairn.client;

import dev.cairn.protocol.ChunkMessages;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fetches chunks by id, hedged. Each chunk is asked of its replicas in placement order: the next
 * replica is asked at once when one answers missing, corrupt or not at all (connection refused,
 * timeout), and also when one has been silent for the hedge delay ({@link ReadLatency}): no answer
 * to this request, nor to any other chunk read of this client, since the delay began. A node that
 * keeps answering is busy, not stalled, and asking a second replica would only add load. At most
 * {@link #parallelism} requests for one chunk are outstanding. The first copy whose bytes hash to
 * the id is taken, so a stalled replica costs a hedge delay, a bad one a second request, and
 * neither a wrong byte.
 *
 * <p>Read-repair: a replica that answered "missing" or "corrupt" for a chunk gets the verified copy
 * (PUT_CHUNKS, compressed as a put would: a chunk read from a pack arrives RAW) once the batch is
 * read, in the background; the get does not wait for it. Answers
 * that arrive after the batch was returned are not repaired (the copies are no longer held);
 * the nodes' repair pass finds those chunks.
 */
final class ChunkReader {

    private final Cluster cluster;
    /** Turns which of its placement nodes a fetch asks first; see {@link #firstAsked}. */
    private final java.util.concurrent.atomic.AtomicInteger fetches = new java.util.concurrent.atomic.AtomicInteger();
    /** Most replicas asked at once for one chunk: N_R, and at least two so that hedging can happen. */
    private final int parallelism;

    ChunkReader(Cluster cluster) {
        this.cluster = cluster;
        this.parallelism = Math.min(cluster.replicas(), Math.max(2, cluster.readQuorum()));
    }

    /** The raw, verified bytes of the chunks, in the order asked. */
    CompletableFuture<List<ByteBuffer>> fetch(List<ChunkId> ids) {
        if (ids.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        Fetch fetch = new Fetch(ids);
        fetch.start();
        return fetch.result;
    }

    /**
     * The order in which a fetch asks a chunk's placement nodes: the same first node for every chunk
     * of the fetch with the same placement nodes, taken in turn from fetch to fetch, then the others
     * in placement order. The pages a put sent together rest in one pack on those nodes, and a node
     * decodes a whole pack to answer for any of its pages; asking one node for all of them has it
     * decode each pack once, where asking each page's first-ranked node had every node decode it.
     * Fetches in flight at once still spread over the nodes. A client inside a node ({@code local},
     * else null) asks that node first whenever it is a placement node: a read in process costs no
     * socket, no framing and no peer's CPU.
     */
    static List<String> firstAsked(List<String> placement, int turn, String local) {
        if (placement.size() < 2) {
            return placement;
        }
        String first;
        if (local != null && placement.contains(local)) {
            first = local;
        } else {
            List<String> byName = new ArrayList<>(placement);
            byName.sort(null);
            first = byName.get(Math.floorMod(turn, byName.size()));
        }
        List<String> order = new ArrayList<>(placement.size());
        order.add(first);
        for (String node : placement) {
            if (!node.equals(first)) {
                order.add(node);
            }
        }
        return order;
    }

    /** One GET_CHUNKS request of a fetch: which chunks it asked of which node. */
    private static final class Request {
        final String node;
        final List<Integer> indexes;
        boolean answered;
        long sentAtNanos;
        ScheduledFuture<?> hedge;

        Request(String node, List<Integer> indexes) {
            this.node = node;
            this.indexes = indexes;
        }
    }

    /** The state of one fetch; every field is guarded by the Fetch's monitor. */
    private final class Fetch {
        final CompletableFuture<List<ByteBuffer>> result = new CompletableFuture<>();
        final List<ChunkId> ids;
        final List<List<String>> placements;
        final int[] nextRank;
        final int[] outstanding;
        ByteBuffer[] raw;
        /** The verified copy as the node stored it (codec and bytes), kept until repairs are sent. */
        ChunkData[] copies;
        final List<List<String>> problems;
        /** Replicas that answered missing or corrupt: node → chunk indexes. */
        final Map<String, List<Integer>> toRepair = new LinkedHashMap<>();
        int unresolved;
        boolean finished;
        /** How the fetch ended, set under the monitor and run after it is released (callers' code runs there). */
        Runnable outcome;

        Fetch(List<ChunkId> ids) {
            this.ids = ids;
            int n = ids.size();
            placements = new ArrayList<>(n);
            problems = new ArrayList<>(n);
            int turn = fetches.getAndIncrement();
            String local = cluster.localNodeId();
            for (ChunkId id : ids) {
                placements.add(firstAsked(cluster.placement().nodesFor(id, cluster.replicas()), turn, local));
                problems.add(null);
            }
            nextRank = new int[n];
            outstanding = new int[n];
            raw = new ByteBuffer[n];
            copies = new ChunkData[n];
            unresolved = n;
        }

        void start() {
            List<Integer> all = new ArrayList<>(ids.size());
            for (int i = 0; i < ids.size(); i++) {
                all.add(i);
            }
            List<Request> first;
            synchronized (this) {
                first = askNext(all);
            }
            settle();
            // The first requests go out on the caller's thread; follow-ups from answers and timers
            // go through the client's background thread, never a network thread (a first call to a
            // node connects, and a connect must not block an event loop).
            first.forEach(this::send);
        }

        /** Assigns each chunk to its next replica, grouped by node; fails the fetch for an exhausted chunk. */
        private List<Request> askNext(List<Integer> indexes) {
            Map<String, List<Integer>> byNode = new LinkedHashMap<>();
            for (int i : indexes) {
                if (raw[i] != null || finished) {
                    continue;
                }
                List<String> placement = placements.get(i);
                if (nextRank[i] < placement.size()) {
                    String node = placement.get(nextRank[i]++);
                    outstanding[i]++;
                    byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(i);
                } else if (outstanding[i] == 0) {
                    fail(i);
                    return List.of();
                }
            }
            List<Request> requests = new ArrayList<>(byNode.size());
            byNode.forEach((node, idx) -> requests.add(new Request(node, idx)));
            return requests;
        }

        /**
         * Sends {@code request}, its hedge armed first. On this thread when the node's connection is
         * open (or the node is this process); otherwise the connect, which against a host that died
         * without a word waits out the connect timeout (5 s), runs on the client's connector threads:
         * it then holds up neither the caller, whose fetch the hedge answers from another replica,
         * nor the background thread that runs every read's hedges.
         */
        private void send(Request request) {
            synchronized (this) {
                if (finished) {
                    request.indexes.forEach(i -> outstanding[i]--);
                    return;
                }
                request.sentAtNanos = cluster.readLatency().now();
                armHedge(request, hedgeDelayNanos(request.node));
            }
            if (cluster.isLocal(request.node) || cluster.isConnected(request.node)) {
                transmit(request);
                return;
            }
            try {
                cluster.connector().execute(() -> transmit(request));
            } catch (RejectedExecutionException e) {
                answered(request, null, new CairnException("the client was closed during a read"));
            }
        }

        private void transmit(Request request) {
            synchronized (this) {
                if (finished) { // answered by another replica while this one waited for its connect
                    request.answered = true;
                    request.indexes.forEach(i -> outstanding[i]--);
                    return;
                }
            }
            List<ChunkId> asked = new ArrayList<>(request.indexes.size());
            request.indexes.forEach(i -> asked.add(ids.get(i)));
            long sentAt = request.sentAtNanos;
            cluster.getChunks(request.node, asked).whenComplete((fetched, error) -> {
                // Timed on the network thread, when the answer arrived; decoded on the client's decoders.
                // A read in process is no round trip: it would shrink the hedge delay of network reads.
                if (error == null) {
                    cluster.readLatency().answered(request.node, sentAt, !cluster.isLocal(request.node));
                }
            }).whenCompleteAsync((fetched, error) -> answered(request, fetched, error), cluster.decoders());
        }

        /**
         * How long {@code node} may stay silent before the next replicas are asked too. A read in
         * process is hedged only as a stalled disk is, after the longest delay: it takes no round
         * trip, so its time is this node's own decoding, which a peer asked in its place would
         * repeat on a loaded machine (the 100 ms of a client without network samples is shorter
         * than a local read of a few MiB of packs on a busy node).
         */
        private long hedgeDelayNanos(String node) {
            return cluster.isLocal(node) ? ReadLatency.MAX_HEDGE_DELAY.toNanos() : cluster.readLatency().hedgeDelayNanos();
        }

        private void armHedge(Request request, long delayNanos) {
            try {
                request.hedge = cluster.background().schedule(() -> hedge(request), delayNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // The client is closing: this request still runs, without a hedge.
            }
        }

        /**
         * The hedge delay passed since the request was sent. A node that answered other chunk reads
         * within the delay is working through its queue, not stalled: look again one delay after its
         * last answer. A node silent for the delay has the next replica of each chunk asked too.
         */
        private void hedge(Request request) {
            List<Request> more;
            synchronized (this) {
                if (finished || request.answered) {
                    return;
                }
                long delay = hedgeDelayNanos(request.node);
                long wait = cluster.readLatency().hedgeWaitNanos(request.node, request.sentAtNanos, delay);
                if (wait > 0) {
                    armHedge(request, wait);
                    return;
                }
                List<Integer> waiting = new ArrayList<>();
                for (int i : request.indexes) {
                    if (raw[i] == null && outstanding[i] < parallelism && nextRank[i] < placements.get(i).size()) {
                        waiting.add(i);
                    }
                }
                more = askNext(waiting);
            }
            settle();
            more.forEach(this::send);
        }

        private void answered(Request request, List<ChunkMessages.Fetched> fetched, Throwable error) {
            ByteBuffer[] decoded = error == null ? decodeOutsideLock(request, fetched) : null;
            List<Integer> retry = new ArrayList<>();
            List<Request> more;
            synchronized (this) {
                request.answered = true;
                if (request.hedge != null) {
                    request.hedge.cancel(false);
                }
                for (int k = 0; k < request.indexes.size(); k++) {
                    int i = request.indexes.get(k);
                    outstanding[i]--;
                    if (finished) {
                        continue;
                    }
                    if (error != null) {
                        note(i, request.node + ": " + Failures.cause(error));
                        retry.add(i);
                    } else if (!take(request.node, i, fetched.get(k), decoded[k])) {
                        retry.add(i);
                    }
                }
                if (finished) {
                    return;
                }
                more = askNext(retry);
                if (unresolved == 0) {
                    succeed();
                }
            }
            settle();
            sendLater(more);
        }

        /**
         * Decodes and verifies outside the lock, so answers from several nodes are checked in
         * parallel. An unsynchronized glance at what is still missing: a stale view only costs a
         * decode, and a finished fetch has let go of its array (length 0), so nothing is decoded for it.
         */
        private ByteBuffer[] decodeOutsideLock(Request request, List<ChunkMessages.Fetched> fetched) {
            ByteBuffer[] decoded = new ByteBuffer[request.indexes.size()];
            ByteBuffer[] missing = raw;
            for (int k = 0; k < decoded.length; k++) {
                int i = request.indexes.get(k);
                ChunkMessages.Fetched f = fetched.get(k);
                if (f.status() == ChunkMessages.ChunkStatus.OK && i < missing.length && missing[i] == null) {
                    decoded[k] = decodeVerified(f.data());
                }
            }
            return decoded;
        }

        /** Takes {@code node}'s answer for chunk {@code i} (under the lock); false when another replica must be asked. */
        private boolean take(String node, int i, ChunkMessages.Fetched f, ByteBuffer decodedEarlier) {
            if (f.status() != ChunkMessages.ChunkStatus.OK) {
                note(i, node + " " + f.status().name().toLowerCase());
                toRepair.computeIfAbsent(node, x -> new ArrayList<>()).add(i);
                return false;
            }
            if (raw[i] != null) {
                return true; // another replica answered first
            }
            // Decoded outside the lock, unless another replica's answer looked like it would win then.
            ByteBuffer bytes = decodedEarlier != null ? decodedEarlier : decodeVerified(f.data());
            if (bytes == null) {
                note(i, node + " sent bytes that do not decode to the id's bytes");
                return false;
            }
            raw[i] = bytes;
            copies[i] = f.data();
            unresolved--;
            return true;
        }

        private void sendLater(List<Request> more) {
            if (more.isEmpty()) {
                return;
            }
            try {
                cluster.background().execute(() -> more.forEach(this::send));
            } catch (RejectedExecutionException e) {
                result.completeExceptionally(new CairnException("the client was closed during a read"));
            }
        }

        private void succeed() {
            finished = true;
            List<ByteBuffer> out = Arrays.asList(raw);
            Map<String, List<Integer>> repairs = new LinkedHashMap<>(toRepair);
            Map<Integer, ChunkData> repairCopies = new LinkedHashMap<>();
            toRepair.values().forEach(indexes -> indexes.forEach(i -> repairCopies.put(i, copies[i])));
            // Requests still outstanding keep this Fetch reachable until they answer or time out:
            // let go of the chunk bytes now.
            raw = new ByteBuffer[0];
            copies = new ChunkData[0];
            toRepair.clear();
            outcome = () -> result.complete(out);
            if (!repairs.isEmpty()) {
                try {
                    cluster.decoders().execute(() -> repair(repairs, repairCopies));
                } catch (RejectedExecutionException e) {
                    // The client is closing; the nodes' repair pass restores the copies.
                }
            }
        }

        private void fail(int i) {
            finished = true;
            String why = problems.get(i) == null ? "no replica" : String.join(", ", problems.get(i));
            raw = new ByteBuffer[0];
            copies = new ChunkData[0];
            CairnException failure = new CairnException.CorruptData("chunk " + ids.get(i).shortHex()
                    + "… could not be read from any of its " + cluster.replicas() + " replicas (" + why + ")"
                    + "; run cairn admin repair when nodes are back");
            outcome = () -> result.completeExceptionally(failure);
        }

        /** Completes the fetch's future, if it ended, outside the monitor. */
        private void settle() {
            Runnable done;
            synchronized (this) {
                done = outcome;
                outcome = null;
            }
            if (done != null) {
                done.run();
            }
        }

        private void note(int index, String why) {
            if (problems.get(index) == null) {
                problems.set(index, new ArrayList<>());
            }
            problems.get(index).add(why);
        }
    }

    /**
     * Sends each node in {@code repairs} its chunks' verified copies, compressed first: a copy read
     * from a pack arrives RAW, and stored as it came it would take about 3.5 times the bytes. The
     * compression runs on the calling thread (one of the client's decoders, not the background
     * thread that times hedges), each chunk once whatever the number of nodes; the PUTs go out on
     * the background thread, as other follow-up requests do. Best effort: a repair that fails
     * leaves the copy to the nodes' repair pass.
     */
    private void repair(Map<String, List<Integer>> repairs, Map<Integer, ChunkData> copies) {
        Map<Integer, ChunkData> encoded = new LinkedHashMap<>();
        try (ChunkEncoder encoder = new ChunkEncoder(cluster.config().zstdLevel())) {
            copies.forEach((i, copy) -> encoded.put(i, encoder.encode(copy)));
        }
        try {
            cluster.background().execute(() -> repairs.forEach((node, indexes) -> {
                List<ChunkData> chunks = new ArrayList<>(indexes.size());
                indexes.forEach(i -> chunks.add(encoded.get(i)));
                cluster.putChunks(node, chunks).exceptionally(e -> null);
            }));
        } catch (RejectedExecutionException e) {
            // The client is closing; the nodes' repair pass restores the copies.
        }
    }

    /** The chunk's raw bytes when they decode and hash to its id, else null. */
    private static ByteBuffer decodeVerified(ChunkData data) {
        ByteBuffer raw;
        try {
            raw = data.rawBytes();
        } catch (ChunkData.CorruptChunkException e) {
            return null;
        }
        return data.id().matches(raw) ? raw : null;
    }
}
