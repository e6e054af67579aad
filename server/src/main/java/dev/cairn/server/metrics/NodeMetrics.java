package dev.cairn.server.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.cairn.protocol.transport.WireAllocator;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.MessageType;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A node's metrics: one Dropwizard registry, exported in the Prometheus text format by the
 * Prometheus client's Dropwizard bridge. Every name starts with {@code cairn_}.
 */
public final class NodeMetrics {

    private final MetricRegistry registry = new MetricRegistry();
    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final Map<MessageType, Timer> requestTimers = new EnumMap<>(MessageType.class);
    private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
    private final Meter bytesIn;
    private final Meter bytesOut;
    private final Counter offeredBytes;
    private final Timer fsyncLatency;
    private final com.codahale.metrics.Histogram fsyncBatch;
    private final Counter newBytes;
    private final Counter repairChecked;
    private final Counter repairCopies;
    private final Counter repairCopiedBytes;
    private final Counter repairYieldedMillis;
    private final Counter scrubChecked;
    private final Counter scrubCorrupt;
    private final Counter gcMarked;
    private final Counter gcSweptChunks;
    private final Counter gcSweptBytes;
    private final Counter gcEpochsCompleted;
    private final Counter gcEpochsAbandoned;
    private final Counter metadataQuorumFailures;
    private final Counter httpQuorumFailures;
    private volatile GcPhase gcPhase = GcPhase.IDLE;

    /** Where this node's GC coordinator is in its epoch; the gauge is the code. */
    public enum GcPhase {
        IDLE(0), ARMING(1), WAITING_FOR_SESSIONS(2), MARKING(3), SWEEPING(4);

        private final int code;

        GcPhase(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    public NodeMetrics() {
        DropwizardExports.builder().dropwizardRegistry(registry).register(prometheus);
        for (MessageType t : MessageType.values()) {
            if (t != MessageType.ERROR) {
                requestTimers.put(t, registry.timer("cairn_request_" + t.name().toLowerCase(Locale.ROOT) + "_seconds"));
            }
        }
        for (ErrorCode c : ErrorCode.values()) {
            errors.put(c, registry.counter("cairn_request_errors_" + c.name().toLowerCase(Locale.ROOT) + "_total"));
        }
        bytesIn = registry.meter("cairn_protocol_received_bytes");
        bytesOut = registry.meter("cairn_protocol_sent_bytes");
        // Dedup, as the puts committed through this node saw it: the logical bytes they stored
        // against the encoded bytes they had to send because no write quorum held them.
        offeredBytes = registry.counter("cairn_dedup_offered_bytes_total");
        fsyncLatency = registry.timer("cairn_store_fsync");
        fsyncBatch = registry.histogram("cairn_store_fsync_batch_records");
        newBytes = registry.counter("cairn_dedup_new_bytes_total");
        gauge("cairn_dedup_ratio", this::dedupRatio);
        repairChecked = registry.counter("cairn_repair_chunks_checked_total");
        repairCopies = registry.counter("cairn_repair_chunks_copied_total");
        repairCopiedBytes = registry.counter("cairn_repair_copied_bytes_total");
        repairYieldedMillis = registry.counter("cairn_repair_yielded_millis_total");
        scrubChecked = registry.counter("cairn_scrub_chunks_checked_total");
        scrubCorrupt = registry.counter("cairn_scrub_chunks_corrupt_total");
        gauge("cairn_gc_phase", () -> gcPhase.code());
        gcMarked = registry.counter("cairn_gc_marked_chunks_total");
        gcSweptChunks = registry.counter("cairn_gc_swept_chunks_total");
        gcSweptBytes = registry.counter("cairn_gc_swept_bytes_total");
        gcEpochsCompleted = registry.counter("cairn_gc_epochs_completed_total");
        gcEpochsAbandoned = registry.counter("cairn_gc_epochs_abandoned_total");
        // The heap, to see that transfers of any size run in bounded memory (docs/operations.md).
        gauge("cairn_jvm_heap_used_bytes", () -> ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        gauge("cairn_jvm_heap_max_bytes", () -> ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax());
        gauge("cairn_jvm_heap_live_after_gc_bytes", NodeMetrics::heapLiveAfterGc);
        // Off the heap: the chunk protocol's frame pool, in chunks of 16 MiB it keeps for reuse.
        gauge("cairn_net_buffer_pool_bytes", () -> WireAllocator.INSTANCE.metric().usedDirectMemory());
        metadataQuorumFailures = registry.counter("cairn_metadata_quorum_failures_total");
        httpQuorumFailures = registry.counter("cairn_http_quorum_failures_total");
    }

    /**
     * Logical bytes over new bytes of the puts committed here: NaN before the first such put,
     * +Inf while every one of them found all its chunks stored already.
     */
    double dedupRatio() {
        long offered = offeredBytes.getCount();
        long stored = newBytes.getCount();
        if (offered == 0) {
            return Double.NaN;
        }
        return stored == 0 ? Double.POSITIVE_INFINITY : (double) offered / stored;
    }

    /** What the heap pools held after their last collection: the live set, without the garbage. */
    static long heapLiveAfterGc() {
        long live = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
                live += pool.getCollectionUsage().getUsed();
            }
        }
        return live;
    }

    /** One fdatasync of the chunk store's appends: its latency and the records it made durable. */
    public void storeSynced(long nanos, int records) {
        fsyncLatency.update(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        fsyncBatch.update(records);
    }

    /** A put committed through this node: its logical bytes and the encoded bytes it had to send. */
    public void putCommitted(long logicalBytes, long newStoredBytes) {
        offeredBytes.inc(logicalBytes);
        newBytes.inc(newStoredBytes);
    }

    /** A repair pass counted these chunks (the ones this node is first holder of). */
    public void repairChecked(long chunks) {
        repairChecked.inc(chunks);
    }

    /** A scheduled repair pass waited this long for clients to go quiet. */
    public void repairYielded(long millis) {
        if (millis > 0) {
            repairYieldedMillis.inc(millis);
        }
    }

    /** A repair pass copied these chunks to a peer, which fsync'd them. */
    public void repairCopied(long chunks, long bytes) {
        repairCopies.inc(chunks);
        repairCopiedBytes.inc(bytes);
    }

    public void scrubChecked(long chunks, long corrupt) {
        scrubChecked.inc(chunks);
        scrubCorrupt.inc(corrupt);
    }

    public void gcPhase(GcPhase phase) {
        gcPhase = phase;
    }

    public GcPhase gcPhase() {
        return gcPhase;
    }

    /** GC_MARK marked these live chunks on this node. */
    public void gcMarked(long chunks) {
        gcMarked.inc(chunks);
    }

    /** A sweep on this node tombstoned these chunks. */
    public void gcSwept(long chunks, long bytes) {
        gcSweptChunks.inc(chunks);
        gcSweptBytes.inc(bytes);
    }

    public void gcEpochEnded(boolean completed) {
        (completed ? gcEpochsCompleted : gcEpochsAbandoned).inc();
    }

    /** A protocol request failed here because the Raft group had no majority or no leader for it. */
    public void metadataQuorumFailure() {
        metadataQuorumFailures.inc();
    }

    /**
     * An HTTP transfer this node ran as a gateway failed for want of a quorum: too few replicas
     * acknowledged a chunk (N_W) or the metadata group had no majority.
     */
    public void httpQuorumFailure() {
        httpQuorumFailures.inc();
    }

    public MetricRegistry registry() {
        return registry;
    }

    /** The latency histogram of one request type. */
    public Timer requestTimer(MessageType type) {
        return requestTimers.get(type);
    }

    public void error(ErrorCode code) {
        errors.get(code).inc();
    }

    public void received(long bytes) {
        bytesIn.mark(bytes);
    }

    public void sent(long bytes) {
        bytesOut.mark(bytes);
    }

    /** Registers a gauge read when metrics are scraped. */
    public void gauge(String name, Supplier<Number> value) {
        registry.gauge(name, () -> (Gauge<Number>) value::get);
    }

    /** Writes every metric in the Prometheus text exposition format. */
    public void writePrometheus(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, prometheus.scrape());
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
