package dev.cairn.protocol;

import dev.cairn.engine.ChunkId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Header messages of upload sessions (OPEN_SESSION, RENEW_SESSION, CLOSE_SESSION) and of garbage collection (GC_*). */
public final class GcMessages {

    private GcMessages() {}

    /** OPEN_SESSION request: a new session of {@code clientId} leased for {@code leaseMillis} of log time. */
    public record OpenSession(UUID sessionId, UUID clientId, long leaseMillis) {
        public ByteBuffer encode() {
            return new WireWriter(48).i64(sessionId.getMostSignificantBits()).i64(sessionId.getLeastSignificantBits())
                    .i64(clientId.getMostSignificantBits()).i64(clientId.getLeastSignificantBits()).i64(leaseMillis)
                    .toBuffer();
        }

        public static OpenSession decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            OpenSession o = new OpenSession(new UUID(r.i64("session id"), r.i64("session id")),
                    new UUID(r.i64("client id"), r.i64("client id")), r.i64("lease"));
            r.end("open session request");
            return o;
        }
    }

    /** RENEW_SESSION request: extend open session {@code sessionId} to {@code leaseMillis} past the renewal's log time. */
    public record RenewSession(UUID sessionId, long leaseMillis) {
        public ByteBuffer encode() {
            return new WireWriter(24).i64(sessionId.getMostSignificantBits()).i64(sessionId.getLeastSignificantBits())
                    .i64(leaseMillis).toBuffer();
        }

        public static RenewSession decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            RenewSession renew = new RenewSession(new UUID(r.i64("session id"), r.i64("session id")), r.i64("lease"));
            r.end("renew session request");
            return renew;
        }
    }

    public static ByteBuffer encodeSession(UUID sessionId) {
        return new WireWriter(16).i64(sessionId.getMostSignificantBits()).i64(sessionId.getLeastSignificantBits()).toBuffer();
    }

    public static UUID decodeSession(ByteBuffer header) {
        WireReader r = new WireReader(header);
        UUID id = new UUID(r.i64("session id"), r.i64("session id"));
        r.end("session request");
        return id;
    }

    /** GC_ARM and GC_SWEEP requests: just the epoch. */
    public static ByteBuffer encodeEpoch(long epoch) {
        return new WireWriter(8).i64(epoch).toBuffer();
    }

    public static long decodeEpoch(ByteBuffer header) {
        WireReader r = new WireReader(header);
        long epoch = r.i64("GC epoch");
        r.end("GC epoch request");
        if (epoch < 1) {
            throw new ProtocolException("GC epoch " + epoch + " is not positive");
        }
        return epoch;
    }

    /**
     * GC_RUN request: how long the coordinator may wait for upload sessions older than the epoch,
     * and optionally an id the caller picked for this run, to follow it with GC_STATUS.
     */
    public record Run(long maxSessionWaitMillis, UUID runId) {
        public Run {
            if (maxSessionWaitMillis < 0) {
                throw new ProtocolException("session wait " + maxSessionWaitMillis + " ms is negative");
            }
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(24).i64(maxSessionWaitMillis);
            if (runId != null) {
                w.i64(runId.getMostSignificantBits()).i64(runId.getLeastSignificantBits());
            }
            return w.toBuffer();
        }

        /** Decodes a request with or without the run id (an older client sends none). */
        public static Run decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            long wait = r.i64("session wait");
            UUID runId = r.remaining() > 0 ? new UUID(r.i64("run id"), r.i64("run id")) : null;
            r.end("GC run request");
            return new Run(wait, runId);
        }
    }

    public static ByteBuffer encodeRun(long maxSessionWaitMillis) {
        return new Run(maxSessionWaitMillis, null).encode();
    }

    /** GC_STATUS request: the run to report on, and the first progress line the caller has not seen. */
    public record StatusRequest(UUID runId, int fromLine) {
        public ByteBuffer encode() {
            return new WireWriter(20).i64(runId.getMostSignificantBits()).i64(runId.getLeastSignificantBits())
                    .i32(fromLine).toBuffer();
        }

        public static StatusRequest decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            StatusRequest s = new StatusRequest(new UUID(r.i64("run id"), r.i64("run id")), r.i32("first line"));
            r.end("GC status request");
            if (s.fromLine < 0) {
                throw new ProtocolException("first line " + s.fromLine + " is negative");
            }
            return s;
        }
    }

    /** Where a GC run is: waiting behind another epoch of the same coordinator, running, or done. */
    public enum RunState {
        /** Not started on this node (queued behind a running epoch), or not known here. */
        QUEUED,
        RUNNING,
        DONE
    }

    /**
     * GC_STATUS answer: the run's state, its epoch (0 while queued), and its progress lines from
     * {@code fromLine} on; the lines are those the GC_RUN answer carries in its log at the end.
     */
    public record Progress(RunState state, long epoch, int fromLine, List<String> lines) {
        public ByteBuffer encode() {
            WireWriter w = new WireWriter(256).u8(state.ordinal()).i64(epoch).i32(fromLine).i32(lines.size());
            lines.forEach(w::string);
            return w.toBuffer();
        }

        public static Progress decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            int state = r.u8("run state");
            if (state >= RunState.values().length) {
                throw new ProtocolException("unknown GC run state " + state);
            }
            long epoch = r.i64("epoch");
            int from = r.i32("first line");
            int n = r.count("progress lines", 2);
            List<String> lines = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                lines.add(r.string("progress line"));
            }
            r.end("GC status");
            return new Progress(RunState.values()[state], epoch, from, lines);
        }
    }

    /** GC_MARK request: the epoch, then chunk ids that are live in it. */
    public static ByteBuffer encodeMark(long epoch, List<ChunkId> ids) {
        WireWriter w = new WireWriter(12 + ids.size() * ChunkId.LENGTH_BYTES).i64(epoch).i32(ids.size());
        ids.forEach(w::id);
        return w.toBuffer();
    }

    /** A decoded GC_MARK request. */
    public record Mark(long epoch, List<ChunkId> ids) {
        public static Mark decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            long epoch = r.i64("GC epoch");
            int count = r.count("chunk ids", ChunkId.LENGTH_BYTES);
            List<ChunkId> ids = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ids.add(r.id("chunk id"));
            }
            r.end("GC mark request");
            return new Mark(epoch, ids);
        }
    }

    /** GC_SWEEP answer: what one node tombstoned. */
    public record SweepReport(String nodeId, long freedChunks, long freedBytes, long keptChunks, long durationMillis) {
        public ByteBuffer encode() {
            return new WireWriter(64).string(nodeId).i64(freedChunks).i64(freedBytes).i64(keptChunks).i64(durationMillis)
                    .toBuffer();
        }

        public static SweepReport decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            SweepReport s = new SweepReport(r.string("node id"), r.i64("freed chunks"), r.i64("freed bytes"),
                    r.i64("kept chunks"), r.i64("duration"));
            r.end("sweep report");
            return s;
        }
    }

    /**
     * GC_RUN answer: the epoch, whether it swept, why not (empty when it did), the phases as
     * progress lines, live chunk ids marked, and each node's sweep report (nodes that skipped the
     * sweep are absent, with the reason in {@code skipped}).
     */
    public record RunReport(long epoch, boolean completed, String abandonedBecause, List<String> log, long liveChunks,
                            long images, Map<String, SweepReport> sweeps, Map<String, String> skipped,
                            long durationMillis) {

        public long freedChunks() {
            return sweeps.values().stream().mapToLong(SweepReport::freedChunks).sum();
        }

        public long freedBytes() {
            return sweeps.values().stream().mapToLong(SweepReport::freedBytes).sum();
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(512).i64(epoch).u8(completed ? 1 : 0).string(abandonedBecause)
                    .i32(log.size());
            log.forEach(w::string);
            w.i64(liveChunks).i64(images).i32(sweeps.size());
            sweeps.values().forEach(s -> w.bytes(bytesOf(s.encode())));
            w.i32(skipped.size());
            skipped.forEach((node, why) -> w.string(node).string(why));
            return w.i64(durationMillis).toBuffer();
        }

        public static RunReport decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            long epoch = r.i64("epoch");
            boolean completed = r.u8("completed") == 1;
            String why = r.string("reason");
            int lines = r.count("log lines", 2);
            List<String> log = new ArrayList<>(lines);
            for (int i = 0; i < lines; i++) {
                log.add(r.string("log line"));
            }
            long live = r.i64("live chunks");
            long images = r.i64("images");
            int n = r.count("sweeps", 2);
            Map<String, SweepReport> sweeps = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                SweepReport s = SweepReport.decode(ByteBuffer.wrap(r.bytes("sweep report")));
                sweeps.put(s.nodeId(), s);
            }
            int k = r.count("skipped", 4);
            Map<String, String> skipped = new LinkedHashMap<>();
            for (int i = 0; i < k; i++) {
                skipped.put(r.string("node id"), r.string("reason"));
            }
            long duration = r.i64("duration");
            r.end("GC report");
            return new RunReport(epoch, completed, why, log, live, images, sweeps, skipped, duration);
        }

        private static byte[] bytesOf(ByteBuffer b) {
            byte[] a = new byte[b.remaining()];
            b.get(a);
            return a;
        }
    }
}
