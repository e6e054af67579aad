package dev.cairn.client;

import dev.cairn.protocol.ChunkMessages;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.EncoderPool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Uploads the chunks of one put in batches: asks the chunks' placement nodes which they hold,
 * compresses and sends the rest, and counts a chunk as stored only when N_W of its placement
 * nodes hold it durably (each node answers a PUT only after the fdatasync that covers it).
 *
 * <p>Small chunks of a batch that go to the same nodes are compressed together in packs
 * ({@link ChunkPack}, sent with PUT_PACKS): a 4 KiB page alone gives zstd little context. The
 * others travel one by one (PUT_CHUNKS). A pack goes whole to each of its nodes that lacks any
 * of its members.
 *
 * <p>Chunks arrive raw and are compressed only once the cluster has said it lacks them: in a
 * stream of checkpoints most chunks of a dump were stored by the one before, and compressing
 * them would be the costliest step of the put for nothing.
 *
 * <p>A bounded number of batches is in flight at once, so memory stays bounded whatever the
 * image size; the producer blocks in {@link #add} when the window is full.
 */
final class ChunkWriter implements AutoCloseable {

    static final int MAX_BATCH_CHUNKS = 1024;
    static final int MAX_BATCH_BYTES = 4 * 1024 * 1024;
    static final int MAX_BATCHES_IN_FLIGHT = 4;

    private final Cluster cluster;
    private final Set<ChunkId> seen = new HashSet<>();
    private final Semaphore window = new Semaphore(MAX_BATCHES_IN_FLIGHT);
    private final ConcurrentLinkedQueue<CompletableFuture<Void>> pending = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong sentBytes = new AtomicLong();
    private final AtomicLong newChunks = new AtomicLong();
    private final AtomicLong uniqueStoredBytes = new AtomicLong();
    private final AtomicLong newStoredBytes = new AtomicLong();
    private final EncoderPool encoders;
    /** Completes when batches may be sent: see {@link #sendAfter}. */
    private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
    private List<ChunkData> batch = new ArrayList<>();
    private int batchBytes;

    /** @param threads how many batches may be compressed at once */
    ChunkWriter(Cluster cluster, int zstdLevel, int threads) {
        this.cluster = cluster;
        // A put whose chunks the cluster holds already opens no zstd context.
        this.encoders = new EncoderPool("cairn-encoder", threads, zstdLevel);
    }

    /**
     * Runs {@code call} on the writer's threads now, and holds back every HAS and PUT until it has
     * returned; if it throws, the put fails with its exception. A put opens its upload session this
     * way, so the Raft round trip of the open overlaps the cutting and hashing of the first chunks
     * instead of preceding them. Call it before the first {@link #add}. The returned future
     * completes, normally or not, when {@code call} has ended.
     */
    CompletableFuture<Void> sendAfter(Runnable call) {
        CompletableFuture<Void> ran = CompletableFuture.runAsync(call, encoders);
        gate = ran;
        pending.add(ran.whenComplete((v, e) -> {
            if (e != null) {
                failure.compareAndSet(null, Cluster.unwrap(e));
            }
        }));
        return ran;
    }

    /**
     * Queues a chunk; a chunk already queued by this writer is skipped (dedup within the image).
     * A RAW chunk is compressed before it is sent, if it is sent at all.
     */
    void add(ChunkData chunk) {
        throwIfFailed();
        if (!seen.add(chunk.id())) {
            return;
        }
        if (batch.size() == MAX_BATCH_CHUNKS || batchBytes + chunk.storedLength() > MAX_BATCH_BYTES) {
            flush();
        }
        batch.add(chunk);
        batchBytes += chunk.storedLength();
    }

    /** Waits until every queued chunk is durable on N_W nodes, or throws why not. */
    void finish() {
        flush();
        for (CompletableFuture<Void> f : pending) {
            try {
                f.get();
            } catch (ExecutionException e) {
                failure.compareAndSet(null, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CairnException("interrupted while uploading");
            }
        }
        pending.clear();
        throwIfFailed();
    }

    long sentBytes() {
        return sentBytes.get();
    }

    long newChunks() {
        return newChunks.get();
    }

    /** Encoded bytes of the chunks that no write quorum held and were sent, counted once (not per replica). */
    long newStoredBytes() {
        return newStoredBytes.get();
    }

    /**
     * Encoded bytes of the distinct chunks this writer was given: as sent, or as the node that
     * already held the chunk reported its copy.
     */
    long uniqueStoredBytes() {
        return uniqueStoredBytes.get();
    }

    private void flush() {
        if (batch.isEmpty()) {
            return;
        }
        List<ChunkData> toSend = batch;
        batch = new ArrayList<>();
        batchBytes = 0;
        try {
            window.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CairnException("interrupted while uploading");
        }
        CompletableFuture<Void> done = gate.thenCompose(ready -> upload(toSend)).whenComplete((v, e) -> {
            window.release();
            if (e != null) {
                failure.compareAndSet(null, Cluster.unwrap(e));
            }
        });
        pending.add(done);
        pending.removeIf(CompletableFuture::isDone);
    }

    private void throwIfFailed() {
        Throwable t = failure.get();
        if (t instanceof CairnException c) {
            throw c;
        }
        if (t != null) {
            throw new CairnException("upload failed: " + Failures.cause(t), t);
        }
    }

    private CompletableFuture<Void> upload(List<ChunkData> chunks) {
        int n = chunks.size();
        List<List<String>> placements = new ArrayList<>(n);
        Map<String, List<Integer>> byNode = new HashMap<>();
        for (int i = 0; i < n; i++) {
            List<String> nodes = cluster.placement().nodesFor(chunks.get(i).id(), cluster.replicas());
            placements.add(nodes);
            for (String node : nodes) {
                byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(i);
            }
        }
        // Which placement nodes already hold each chunk durably, and how large their copy is.
        Map<String, CompletableFuture<int[]>> presence = new HashMap<>();
        byNode.forEach((node, indexes) -> {
            List<ChunkId> ids = new ArrayList<>(indexes.size());
            indexes.forEach(i -> ids.add(chunks.get(i).id()));
            presence.put(node, cluster.storedLengths(node, ids).exceptionally(e -> null));
        });
        // Compression runs on the writer's own threads, never on a network thread.
        return CompletableFuture.allOf(presence.values().toArray(CompletableFuture[]::new))
                .thenComposeAsync(ignored -> send(chunks, placements, byNode, presence), encoders);
    }

    private CompletableFuture<Void> send(List<ChunkData> chunks, List<List<String>> placements,
                                         Map<String, List<Integer>> byNode, Map<String, CompletableFuture<int[]>> presence) {
        int w = cluster.writeQuorum();
        Tally tally = Tally.of(chunks.size(), byNode, presence);
        Set<Integer> needed = tally.needed(byNode, w);
        Encoded encoded = new Encoded(chunks.size());
        if (!needed.isEmpty()) { // a batch the cluster holds already borrows (and opens) no encoder
            withEncoder(encoder -> encodeNeeded(encoder, chunks, placements, needed, encoded.toSend, encoded.packs,
                    encoded.packOf, encoded.slot));
        }
        long stored = 0;
        for (int i = 0; i < chunks.size(); i++) {
            stored += encoded.isSent(i) ? encoded.storedShare(i)
                    : tally.storedLength[i] != ChunkMessages.ABSENT ? tally.storedLength[i] : chunks.get(i).storedLength();
        }
        uniqueStoredBytes.addAndGet(stored);
        List<CompletableFuture<Void>> puts = new ArrayList<>();
        Set<Integer> sent = new HashSet<>();
        byNode.forEach((node, indexes) -> sendTo(node, indexes, tally, encoded, w, sent, puts));
        newChunks.addAndGet(sent.size());
        sent.forEach(i -> newStoredBytes.addAndGet(encoded.storedShare(i)));
        int[] durable = tally.durable;
        return CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).thenRun(() -> {
            synchronized (durable) {
                for (int i = 0; i < durable.length; i++) {
                    if (durable[i] < w) {
                        throw new CairnException.QuorumUnavailable("quorum not met: " + durable[i] + " of "
                                + cluster.replicas() + " replicas acknowledged chunk " + chunks.get(i).id().shortHex()
                                + "… (need N_W=" + w + ")" + describe(tally.problems));
                    }
                }
            }
        });
    }

    /** Sends {@code node} the batch's chunks it lacks that are still below N_W: singles in one frame, packs in another. */
    private void sendTo(String node, List<Integer> indexes, Tally tally, Encoded encoded, int w, Set<Integer> sent,
                        List<CompletableFuture<Void>> puts) {
        int[] lengths = tally.has.get(node);
        if (lengths == null) {
            return; // unreachable: its copies come from repair later
        }
        List<ChunkData> singles = new ArrayList<>();
        List<Integer> singleIndexes = new ArrayList<>();
        // A pack goes whole to a node that lacks any of its members; only those members count as new there.
        Set<Integer> nodePacks = new java.util.TreeSet<>();
        List<Integer> packedIndexes = new ArrayList<>();
        for (int k = 0; k < indexes.size(); k++) {
            int i = indexes.get(k);
            if (lengths[k] == ChunkMessages.ABSENT && tally.held[i] < w) {
                if (encoded.packOf[i] >= 0) {
                    nodePacks.add(encoded.packOf[i]);
                    packedIndexes.add(i);
                } else {
                    singles.add(encoded.toSend[i]);
                    singleIndexes.add(i);
                }
            }
        }
        if (!singles.isEmpty()) {
            long frameBytes = singles.stream().mapToLong(ChunkData::storedLength).sum();
            sent.addAll(singleIndexes);
            puts.add(counted(cluster.putChunks(node, singles), node, frameBytes, singleIndexes, tally.durable, tally.problems));
        }
        if (!nodePacks.isEmpty()) {
            List<ChunkPack> frames = new ArrayList<>(nodePacks.size());
            nodePacks.forEach(p -> frames.add(encoded.packs.get(p)));
            long frameBytes = frames.stream().mapToLong(ChunkPack::storedLength).sum();
            sent.addAll(packedIndexes);
            puts.add(counted(cluster.putPacks(node, frames), node, frameBytes, packedIndexes, tally.durable, tally.problems));
        }
    }

    /** What the HAS answers of one batch say: durable copies per chunk, their stored lengths, who did not answer. */
    private static final class Tally {
        /** Durable copies per chunk; the PUT answers raise it while later PUTs are formed (guarded by itself). */
        final int[] durable;
        /**
         * Durable copies as the HAS answers counted them: which nodes get a chunk is decided on
         * these, not on {@link #durable}.
         */
        final int[] held;
        final int[] storedLength;
        final Map<String, int[]> has = new HashMap<>();
        final Map<String, String> problems = new HashMap<>();

        private Tally(int n) {
            durable = new int[n];
            held = new int[n];
            storedLength = new int[n];
            Arrays.fill(storedLength, ChunkMessages.ABSENT);
        }

        static Tally of(int n, Map<String, List<Integer>> byNode, Map<String, CompletableFuture<int[]>> presence) {
            Tally tally = new Tally(n);
            presence.forEach((node, f) -> {
                int[] lengths = f.join();
                if (lengths == null) {
                    tally.problems.put(node, "unreachable");
                    return;
                }
                tally.has.put(node, lengths);
                List<Integer> indexes = byNode.get(node);
                for (int k = 0; k < lengths.length; k++) {
                    if (lengths[k] != ChunkMessages.ABSENT) {
                        tally.durable[indexes.get(k)]++;
                        tally.storedLength[indexes.get(k)] = lengths[k];
                    }
                }
            });
            System.arraycopy(tally.durable, 0, tally.held, 0, n);
            return tally;
        }

        /** The chunks some reachable node must receive: each is compressed once, whatever the number of copies sent. */
        Set<Integer> needed(Map<String, List<Integer>> byNode, int w) {
            Set<Integer> needed = new java.util.TreeSet<>();
            byNode.forEach((node, indexes) -> {
                int[] lengths = has.get(node);
                if (lengths == null) {
                    return; // unreachable: its copies come from repair later
                }
                for (int k = 0; k < indexes.size(); k++) {
                    if (lengths[k] == ChunkMessages.ABSENT && held[indexes.get(k)] < w) {
                        needed.add(indexes.get(k));
                    }
                }
            });
            return needed;
        }
    }

    /** The batch's needed chunks, encoded: chunk i travels alone ({@code toSend[i]}) or as member {@code slot[i]} of {@code packs[packOf[i]]}. */
    private static final class Encoded {
        final ChunkData[] toSend;
        final int[] packOf;
        final int[] slot;
        final List<ChunkPack> packs = new ArrayList<>();

        Encoded(int n) {
            toSend = new ChunkData[n];
            packOf = new int[n];
            slot = new int[n];
            Arrays.fill(packOf, -1);
        }

        boolean isSent(int i) {
            return packOf[i] >= 0 || toSend[i] != null;
        }

        long storedShare(int i) {
            return packOf[i] >= 0 ? packs.get(packOf[i]).storedShare(slot[i]) : toSend[i].storedLength();
        }
    }

    /**
     * A PUT to {@code node} that, once the node has answered (after the fdatasync that covers it),
     * counts {@code frameBytes} as sent and a durable copy of each chunk in {@code lacked}; if it
     * fails, records why for the quorum error.
     */
    private CompletableFuture<Void> counted(CompletableFuture<Void> put, String node, long frameBytes,
                                            List<Integer> lacked, int[] durable, Map<String, String> problems) {
        return put.handle((r, e) -> {
            if (e == null) {
                sentBytes.addAndGet(frameBytes);
                synchronized (durable) {
                    lacked.forEach(i -> durable[i]++);
                }
            } else {
                synchronized (problems) {
                    problems.put(node, Failures.cause(e));
                }
            }
            return null;
        });
    }

    /**
     * Encodes the needed chunks with one encoder: small RAW chunks that share their placement nodes
     * in packs ({@link PackPlanner}), each other chunk alone, and so also the members of a pack
     * that does not pay.
     */
    private static void encodeNeeded(ChunkEncoder encoder, List<ChunkData> chunks, List<List<String>> placements,
                                     Set<Integer> needed, ChunkData[] toSend, List<ChunkPack> packs, int[] packOf,
                                     int[] slot) {
        List<Integer> order = new ArrayList<>(needed); // ascending: the image's order
        List<ChunkData> neededChunks = new ArrayList<>(order.size());
        List<Set<String>> keys = new ArrayList<>(order.size());
        for (int i : order) {
            neededChunks.add(chunks.get(i));
            keys.add(PackPlanner.placementKey(placements.get(i)));
        }
        PackPlanner.Plan plan = PackPlanner.plan(neededChunks, keys);
        for (List<Integer> members : plan.packs()) {
            List<ChunkData> raw = new ArrayList<>(members.size());
            members.forEach(k -> raw.add(neededChunks.get(k)));
            ChunkPack pack = encoder.encodePack(raw);
            if (pack == null) {
                members.forEach(k -> toSend[order.get(k)] = encoder.encode(neededChunks.get(k)));
                continue;
            }
            for (int s = 0; s < members.size(); s++) {
                int i = order.get(members.get(s));
                packOf[i] = packs.size();
                slot[i] = s;
            }
            packs.add(pack);
        }
        plan.singles().forEach(k -> toSend[order.get(k)] = encoder.encode(neededChunks.get(k)));
    }

    /**
     * Runs {@code work} with one encoder for the whole batch (borrowed once, not per chunk). It runs
     * on the pool's own threads, one batch each at a time, so an encoder is always free.
     */
    private void withEncoder(java.util.function.Consumer<ChunkEncoder> work) {
        try {
            encoders.withEncoder(encoder -> {
                work.accept(encoder);
                return null;
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CairnException("interrupted while uploading");
        }
    }

    @Override
    public void close() {
        encoders.close();
    }

    private static String describe(Map<String, String> problems) {
        if (problems.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        synchronized (problems) {
            problems.forEach((node, why) -> sb.append("; node ").append(node).append(": ").append(why));
        }
        return sb.toString();
    }
}
