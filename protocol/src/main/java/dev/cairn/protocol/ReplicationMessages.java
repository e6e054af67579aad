package dev.cairn.protocol;

import java.nio.ByteBuffer;

/** Header messages of the REPAIR and SCRUB requests and their answers. */
public final class ReplicationMessages {

    private ReplicationMessages() {}

    /** REPAIR request: only report the last census, or run a pass now. */
    public enum RepairMode { REPORT, RUN }

    public static ByteBuffer encodeMode(RepairMode mode) {
        return new WireWriter(1).u8(mode.ordinal()).toBuffer();
    }

    public static RepairMode decodeMode(ByteBuffer header) {
        WireReader r = new WireReader(header);
        int m = r.u8("repair mode");
        r.end("repair request");
        if (m >= RepairMode.values().length) {
            throw new ProtocolException("unknown repair mode " + m);
        }
        return RepairMode.values()[m];
    }

    /**
     * What one node's replication pass found. Each chunk is counted by exactly one node, the first
     * of its placement nodes that holds it, so the sums over all nodes are the cluster's figures.
     *
     * @param scannedChunks chunks this node counted
     * @param belowReplicas of those, chunks with fewer than N copies on their placement nodes
     * @param belowWriteQuorum of those, chunks with fewer than N_W copies
     * @param copiesRepaired copies this pass sent to placement nodes that lacked them
     * @param bytesRepaired bytes of those copies
     * @param unreachablePeers peers that did not answer during the pass
     * @param finishedAtMillis when the pass ended, or -1 when no pass has run yet
     * @param durationMillis how long it took
     * @param surplusDropped copies this node deleted because it is no longer one of the chunk's
     *     placement nodes and every placement node confirmed a durable copy (after a membership
     *     change: the chunk moved). A trailing field, absent (0) in a report from an older node
     */
    public record RepairReport(String nodeId, long scannedChunks, long belowReplicas, long belowWriteQuorum,
                               long copiesRepaired, long bytesRepaired, long unreachablePeers, long finishedAtMillis,
                               long durationMillis, long surplusDropped) {

        public RepairReport(String nodeId, long scannedChunks, long belowReplicas, long belowWriteQuorum,
                            long copiesRepaired, long bytesRepaired, long unreachablePeers, long finishedAtMillis,
                            long durationMillis) {
            this(nodeId, scannedChunks, belowReplicas, belowWriteQuorum, copiesRepaired, bytesRepaired, unreachablePeers,
                    finishedAtMillis, durationMillis, 0);
        }

        public static RepairReport none(String nodeId) {
            return new RepairReport(nodeId, 0, 0, 0, 0, 0, 0, -1, 0);
        }

        public ByteBuffer encode() {
            return new WireWriter(104).string(nodeId).i64(scannedChunks).i64(belowReplicas).i64(belowWriteQuorum)
                    .i64(copiesRepaired).i64(bytesRepaired).i64(unreachablePeers).i64(finishedAtMillis)
                    .i64(durationMillis).i64(surplusDropped).toBuffer();
        }

        public static RepairReport decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            String nodeId = r.string("node id");
            long scanned = r.i64("scanned");
            long belowN = r.i64("below N");
            long belowW = r.i64("below N_W");
            long copies = r.i64("copies repaired");
            long bytes = r.i64("bytes repaired");
            long unreachable = r.i64("unreachable peers");
            long finished = r.i64("finished at");
            long duration = r.i64("duration");
            long dropped = r.remaining() > 0 ? r.i64("surplus dropped") : 0;
            r.end("repair report");
            return new RepairReport(nodeId, scanned, belowN, belowW, copies, bytes, unreachable, finished, duration, dropped);
        }
    }

    /**
     * What one node's scrub found.
     *
     * @param checked chunks re-read and re-hashed
     * @param corrupt chunks whose bytes did not match their id or CRC
     * @param repaired corrupt chunks replaced by a verified copy from a peer
     * @param unrepairable corrupt chunks no peer could supply
     */
    public record ScrubReport(String nodeId, long checked, long corrupt, long repaired, long unrepairable,
                              long durationMillis) {

        public ByteBuffer encode() {
            return new WireWriter(64).string(nodeId).i64(checked).i64(corrupt).i64(repaired).i64(unrepairable)
                    .i64(durationMillis).toBuffer();
        }

        public static ScrubReport decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            ScrubReport report = new ScrubReport(r.string("node id"), r.i64("checked"), r.i64("corrupt"),
                    r.i64("repaired"), r.i64("unrepairable"), r.i64("duration"));
            r.end("scrub report");
            return report;
        }
    }
}
