package dev.cairn.client;

import dev.cairn.protocol.GcMessages;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one garbage collection epoch did: whether it swept, why not, its phases as progress lines,
 * the live chunk references it marked, and what each node freed.
 *
 * @param abandonedBecause empty when the epoch swept
 * @param sweeps by node id, the nodes that swept
 * @param skipped by node id, why a node skipped the sweep
 */
public record GcReport(long epoch, boolean completed, String abandonedBecause, List<String> log, long liveChunks,
                       long images, Map<String, Sweep> sweeps, Map<String, String> skipped, long durationMillis) {

    public GcReport {
        log = List.copyOf(log);
        sweeps = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sweeps));
        skipped = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
    }

    /** What one node tombstoned. */
    public record Sweep(String nodeId, long freedChunks, long freedBytes, long keptChunks, long durationMillis) {}

    public long freedChunks() {
        return sweeps.values().stream().mapToLong(Sweep::freedChunks).sum();
    }

    public long freedBytes() {
        return sweeps.values().stream().mapToLong(Sweep::freedBytes).sum();
    }

    static GcReport of(GcMessages.RunReport r) {
        Map<String, Sweep> sweeps = new LinkedHashMap<>();
        r.sweeps().forEach((node, s) -> sweeps.put(node, new Sweep(s.nodeId(), s.freedChunks(), s.freedBytes(),
                s.keptChunks(), s.durationMillis())));
        return new GcReport(r.epoch(), r.completed(), r.abandonedBecause(), r.log(), r.liveChunks(), r.images(), sweeps,
                r.skipped(), r.durationMillis());
    }
}
