package dev.cairn.server.gc;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.client.ChunkPeers;
import dev.cairn.config.NodeConfig;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.Clock;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.GcMessages.RunReport;
import dev.cairn.protocol.GcMessages.SweepReport;
import dev.cairn.protocol.MessageType;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.metrics.NodeMetrics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one GC epoch (docs/gc.md) with this node as the coordinator: arm every node, begin the
 * epoch in the catalog, wait until it may sweep, mark every committed image's chunks live on
 * every node, then let each node that saw the whole epoch sweep. Any doubt abandons the epoch
 * before the sweep: correctness over completeness.
 */
public final class GcCoordinator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GcCoordinator.class);
    /** Live ids per GC_MARK request: 8192 × 32 bytes = 256 KiB of header. */
    static final int MARK_BATCH = 8192;
    /** How long one node may take to answer an arm or mark request. */
    static final Duration NODE_TIMEOUT = Duration.ofSeconds(60);
    /** How long one node may take to sweep. */
    static final Duration SWEEP_TIMEOUT = Duration.ofHours(1);
    /** How often the manifest walk adds a progress line. */
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
    private static final String ALPHABET = "-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

    private final NodeConfig config;
    private final MetaService meta;
    private final Supplier<ChunkPeers> peers;
    private final Supplier<CairnClient> client;
    private final NodeMetrics metrics;
    private final Clock clock;
    private final SessionWait sessionWait;
    /** The epoch running now and the last one that ended, for GC_STATUS. */
    private volatile Epoch running;
    private volatile Epoch lastEnded;
    /** One epoch at a time from this node; epochs from two coordinators are ordered by the catalog. */
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "cairn-gc-coordinator");
        t.setDaemon(true);
        return t;
    });

    public GcCoordinator(NodeConfig config, MetaService meta, Supplier<ChunkPeers> peers, Supplier<CairnClient> client,
                         NodeMetrics metrics) {
        this(config, meta, peers, client, metrics, Clock.SYSTEM);
    }

    /** Times the epochs' waits and progress lines on {@code clock}. */
    public GcCoordinator(NodeConfig config, MetaService meta, Supplier<ChunkPeers> peers, Supplier<CairnClient> client,
                         NodeMetrics metrics, Clock clock) {
        this.config = config;
        this.meta = meta;
        this.peers = peers;
        this.client = client;
        this.metrics = metrics;
        this.clock = clock;
        this.sessionWait = new SessionWait(clock, SessionWait.SLEEP);
    }

    public CompletableFuture<RunReport> runAsync(Duration maxSessionWait) {
        return runAsync(maxSessionWait, UUID.randomUUID());
    }

    /** Runs one epoch after any epoch in progress here; {@code runId} names it for {@link #status}. */
    public CompletableFuture<RunReport> runAsync(Duration maxSessionWait, UUID runId) {
        return CompletableFuture.supplyAsync(() -> {
            Epoch epoch = new Epoch(maxSessionWait, runId);
            running = epoch;
            metrics.gcPhase(NodeMetrics.GcPhase.ARMING);
            try {
                RunReport report = epoch.run();
                metrics.gcEpochEnded(report.completed());
                return report;
            } finally {
                lastEnded = epoch;
                running = null;
                metrics.gcPhase(NodeMetrics.GcPhase.IDLE);
            }
        }, executor);
    }

    /** The progress lines of run {@code runId} from line {@code fromLine} on, while it runs and after. */
    public GcMessages.Progress status(UUID runId, int fromLine) {
        for (Epoch e : new Epoch[] {running, lastEnded}) {
            if (e != null && e.runId.equals(runId)) {
                List<String> lines;
                synchronized (e.log) {
                    lines = fromLine >= e.log.size() ? List.of() : List.copyOf(e.log.subList(fromLine, e.log.size()));
                }
                return new GcMessages.Progress(e == running ? GcMessages.RunState.RUNNING : GcMessages.RunState.DONE,
                        e.epoch, fromLine, lines);
            }
        }
        return new GcMessages.Progress(GcMessages.RunState.QUEUED, 0, fromLine, List.of());
    }

    /** Thrown inside an epoch to abandon it; the message says why. */
    static final class Abandon extends RuntimeException {
        Abandon(String message) {
            super(message);
        }
    }

    private final class Epoch {
        private final Duration maxSessionWait;
        private final UUID runId;
        private final long startNanos = clock.nanoTime();
        private final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Map<String, String> skipped = new ConcurrentSkipListMap<>();
        private final List<String> nodes = new ArrayList<>();
        private volatile long epoch;
        private long liveChunks;
        private long images;

        Epoch(Duration maxSessionWait, UUID runId) {
            this.maxSessionWait = maxSessionWait;
            this.runId = runId;
            // Every member, active or leaving, as the catalog holds them now; the config's list is only
            // the first membership.
            try {
                ChunkPeers view = peers.get();
                view.refresh();
                nodes.addAll(view.nodeIds());
            } catch (RuntimeException e) {
                LOG.warn("GC uses the nodes of the config: cannot read the membership: {}", e.toString());
                config.nodes().forEach(n -> nodes.add(n.id()));
            }
        }

        RunReport run() {
            try {
                epoch = meta.gcEpoch() + 1;
                arm();
                begin();
                awaitMaySweep();
                markLive();
                Map<String, SweepReport> sweeps = sweep();
                boolean all = skipped.isEmpty();
                say("epoch " + epoch + " done" + (all ? "" : "; " + skipped.size() + " node(s) skipped the sweep"));
                return report(all, all ? "" : "node(s) " + String.join(", ", skipped.keySet())
                        + " skipped the sweep (" + String.join("; ", skipped.values()) + ")", sweeps);
            } catch (Abandon e) {
                say("epoch " + epoch + " abandoned: " + e.getMessage());
                return report(false, e.getMessage(), Map.of());
            } catch (RuntimeException e) {
                LOG.warn("GC epoch {} failed", epoch, e);
                say("epoch " + epoch + " abandoned: " + e);
                return report(false, "coordinator failed: " + e, Map.of());
            }
        }

        private RunReport report(boolean completed, String why, Map<String, SweepReport> sweeps) {
            return new RunReport(epoch, completed, why, List.copyOf(log), liveChunks, images, sweeps, Map.copyOf(skipped),
                    (clock.nanoTime() - startNanos) / 1_000_000);
        }

        private void say(String line) {
            String stamped = String.format("[%6.1fs] %s", (clock.nanoTime() - startNanos) / 1e9, line);
            log.add(stamped);
            LOG.info("GC: {}", stamped);
        }

        /** Step 1: every node persists "marking epoch = E", or the epoch is abandoned. */
        private void arm() {
            say("epoch " + epoch + ": arming " + nodes.size() + " nodes");
            Map<String, String> failed = callAll(nodes, MessageType.GC_ARM, GcMessages.encodeEpoch(epoch), NODE_TIMEOUT);
            if (!failed.isEmpty()) {
                throw new Abandon("not every node confirmed GC_ARM(" + epoch + "), so a node could confirm a chunk"
                        + " without marking it: " + describe(failed));
            }
        }

        /** Step 2: BEGIN_GC_EPOCH(E), only after every node marks with E. */
        private void begin() {
            metrics.gcPhase(NodeMetrics.GcPhase.WAITING_FOR_SESSIONS);
            try {
                long index = meta.beginGcEpoch(epoch).get();
                say("epoch " + epoch + " began at log index " + index);
            } catch (ExecutionException e) {
                throw new Abandon("the catalog refused BEGIN_GC_EPOCH(" + epoch + "): " + rootMessage(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Abandon("interrupted");
            }
        }

        /** Step 3: GC_MAY_SWEEP(E) commits once every session older than the epoch closed or expired. */
        private void awaitMaySweep() {
            long index = sessionWait.await(epoch, maxSessionWait, () -> meta.gcMaySweep(epoch), this::say);
            say("epoch " + epoch + " may sweep (log index " + index + ")");
        }

        /** Step 4: every chunk of every committed image, marked E on every node. */
        private void markLive() {
            List<ImageInfo> all = new ArrayList<>();
            metrics.gcPhase(NodeMetrics.GcPhase.MARKING);
            listAll("", all);
            images = all.size();
            say("marking the chunks of " + images + " images live");
            Set<ChunkId> batch = new HashSet<>();
            long lastSaid = clock.nanoTime();
            int read = 0;
            for (ImageInfo info : all) {
                // A line every few seconds, so a long walk shows where it is while it runs.
                if (clock.nanoTime() - lastSaid > PROGRESS_EVERY.toNanos()) {
                    say("read the manifests of " + read + " of " + images + " images, " + liveChunks + " chunk references");
                    lastSaid = clock.nanoTime();
                }
                read++;
                Set<ChunkId> ids;
                try {
                    ids = CairnAdmin.of(client.get()).referencedChunks(info);
                } catch (RuntimeException e) {
                    if (stillExists(info)) {
                        throw new Abandon("cannot read the manifest of image " + info.name() + ": " + e.getMessage());
                    }
                    continue; // deleted meanwhile: its chunks need no mark
                }
                liveChunks += ids.size();
                batch.addAll(ids);
                if (batch.size() >= MARK_BATCH) {
                    sendMarks(batch);
                    batch.clear();
                }
            }
            sendMarks(batch);
            say("marked " + liveChunks + " chunk references live on " + (nodes.size() - skipped.size()) + " nodes");
        }

        private boolean stillExists(ImageInfo info) {
            try {
                return meta.getImage(info.name()).get().isPresent();
            } catch (ExecutionException e) {
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }

        private void sendMarks(Set<ChunkId> ids) {
            if (ids.isEmpty()) {
                return;
            }
            List<ChunkId> list = new ArrayList<>(ids);
            // One image can reference more than a batch: split, so a request stays 256 KiB.
            for (int from = 0; from < list.size(); from += MARK_BATCH) {
                List<ChunkId> part = list.subList(from, Math.min(list.size(), from + MARK_BATCH));
                List<String> targets = new ArrayList<>(nodes);
                targets.removeAll(skipped.keySet());
                Map<String, String> failed = callAll(targets, MessageType.GC_MARK, GcMessages.encodeMark(epoch, part),
                        NODE_TIMEOUT);
                // A node that missed live marks must not sweep this epoch.
                failed.forEach((node, why) -> skipped.putIfAbsent(node, "live marks not delivered: " + why));
                if (skipped.size() == nodes.size()) {
                    throw new Abandon("no node took the live marks: " + describe(skipped));
                }
            }
        }

        /**
         * Every image in the catalog, by prefix: a prefix whose listing is full is split by its
         * next character, so any number of images is listed with the bounded LIST_IMAGES.
         */
        private void listAll(String prefix, List<ImageInfo> out) {
            List<ImageInfo> page;
            try {
                page = meta.listImages(prefix, 1000).get();
            } catch (ExecutionException e) {
                throw new Abandon("cannot list the catalog: " + rootMessage(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Abandon("interrupted");
            }
            if (page.size() < 1000) {
                out.addAll(page);
                return;
            }
            if (!page.isEmpty() && page.get(0).name().value().equals(prefix)) {
                out.add(page.get(0)); // the name equal to the prefix sorts first
            }
            for (char c : ALPHABET.toCharArray()) {
                listAll(prefix + c, out);
            }
        }

        /** Step 5: each node that took every mark sweeps; the others skip this epoch. */
        private Map<String, SweepReport> sweep() {
            List<String> targets = new ArrayList<>(nodes);
            targets.removeAll(skipped.keySet());
            metrics.gcPhase(NodeMetrics.GcPhase.SWEEPING);
            say("sweeping " + targets.size() + " nodes");
            Map<String, SweepReport> reports = new ConcurrentSkipListMap<>();
            List<CompletableFuture<?>> calls = new ArrayList<>();
            for (String node : targets) {
                calls.add(peers.get().call(node, MessageType.GC_SWEEP, GcMessages.encodeEpoch(epoch), SWEEP_TIMEOUT)
                        .handle((header, error) -> {
                            if (error != null) {
                                skipped.put(node, "sweep failed: " + rootMessage(error));
                            } else {
                                SweepReport r = SweepReport.decode(header);
                                reports.put(node, r);
                                say("node " + node + " freed " + r.freedChunks() + " chunks, " + r.freedBytes()
                                        + " bytes (kept " + r.keptChunks() + ") in " + r.durationMillis() + " ms");
                            }
                            return null;
                        }));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
            return new LinkedHashMap<>(reports);
        }

        private Map<String, String> callAll(List<String> targets, MessageType type, ByteBuffer header, Duration timeout) {
            Map<String, String> failed = new ConcurrentSkipListMap<>();
            List<CompletableFuture<?>> calls = new ArrayList<>();
            for (String node : targets) {
                CompletableFuture<ByteBuffer> call;
                try {
                    call = peers.get().call(node, type, header.duplicate(), timeout);
                } catch (RuntimeException e) {
                    failed.put(node, rootMessage(e));
                    continue;
                }
                calls.add(call.handle((h, e) -> {
                    if (e != null) {
                        failed.put(node, rootMessage(e));
                    }
                    return null;
                }));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
            return failed;
        }
    }

    private static String describe(Map<String, String> failures) {
        List<String> parts = new ArrayList<>();
        failures.forEach((node, why) -> parts.add("node " + node + ": " + why));
        return String.join("; ", parts);
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static String rootMessage(Throwable t) {
        Throwable c = unwrap(t);
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
