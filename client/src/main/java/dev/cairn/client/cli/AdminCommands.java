package dev.cairn.client.cli;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.ClusterInfo;
import dev.cairn.client.GcReport;
import dev.cairn.client.NodeStatus;
import dev.cairn.client.RepairMode;
import dev.cairn.client.RepairReport;
import dev.cairn.client.ScrubReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code cairn admin …}: what operators use to see and keep the cluster healthy. */
@Command(name = "admin", mixinStandardHelpOptions = true,
        description = "Cluster administration: health, nodes, repair, scrub, gc, token, quota.",
        subcommands = {AdminCommands.Health.class, NodesCommand.class, AdminCommands.Repair.class, AdminCommands.Scrub.class,
                AdminCommands.Gc.class, TokenCommands.class, QuotaCommands.class})
final class AdminCommands implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Exit codes of {@code admin health}, as CLI.md fixes them. */
    static final int HEALTHY = 0;
    static final int DEGRADED = 1;
    static final int UNAVAILABLE = 2;

    @Command(name = "health", mixinStandardHelpOptions = true,
            description = {"Per node: reachable, Raft role, term, commit/applied index, lag, chunks and stored bytes. "
                    + "Cluster: leader, live nodes vs N.",
                "Exit 0 healthy, 1 degraded (serving, but a node is down), 2 unavailable (no Raft leader or no write quorum)."},
            footer = {"", "Example:", "  cairn admin health --json | tail -1"})
    static final class Health implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Override
        public Integer call() {
            CairnAdmin connected;
            try {
                connected = shared.admin();
            } catch (dev.cairn.client.CairnException.ClusterUnreachable e) {
                System.out.println("status: unavailable (" + e.getMessage() + ")");
                new AdminOutput(shared.json).field("status", "unavailable").field("leader", null).field("liveNodes", 0)
                        .field("nodes", List.of()).field("underReplicatedChunks", null).finish();
                return UNAVAILABLE;
            }
            try (CairnAdmin cairn = connected) {
                ClusterInfo info = cairn.clusterInfo();
                List<NodeStatus> statuses = cairn.nodeStatuses();
                Map<String, NodeStatus> byId = new LinkedHashMap<>();
                statuses.forEach(s -> byId.put(s.nodeId(), s));
                String leader = statuses.stream().filter(s -> "LEADER".equals(s.role())).map(NodeStatus::nodeId)
                        .findFirst().orElse(null);
                long leaderCommit = statuses.stream().filter(s -> s.nodeId().equals(leaderOrEmpty(leader)))
                        .mapToLong(NodeStatus::commitIndex).findFirst().orElse(-1);
                int live = statuses.size();
                int total = info.nodes().size();
                CairnAdmin.NodeReports<RepairReport> census =
                        cairn.repair(RepairMode.REPORT, CairnAdmin.NodeListener.NONE);
                long belowN = 0;
                long belowW = 0;
                boolean censusComplete = census.failures().isEmpty() && !census.reports().isEmpty();
                for (RepairReport r : census.reports().values()) {
                    belowN += r.belowReplicas();
                    belowW += r.belowWriteQuorum();
                    censusComplete &= r.finishedAtMillis() >= 0;
                }
                String status;
                int code;
                if (leader == null || live < info.writeQuorum() || live <= total / 2) {
                    status = "unavailable";
                    code = UNAVAILABLE;
                } else if (live < total || belowN > 0) {
                    status = "degraded";
                    code = DEGRADED;
                } else {
                    status = "healthy";
                    code = HEALTHY;
                }
                List<Map<String, Object>> nodes = printNodes(info, byId, leaderCommit);
                System.out.println();
                boolean counted = census.reports().values().stream().anyMatch(r -> r.finishedAtMillis() >= 0);
                if (counted) {
                    System.out.println("chunks below N=" + info.replicas() + ": " + belowN + ", below N_W=" + info.writeQuorum()
                            + ": " + belowW + " (last replication census" + (censusComplete ? "" : " of the nodes that answered")
                            + "; cairn admin repair runs one now)");
                } else {
                    System.out.println("chunks below N: not counted yet (no replication census has run; cairn admin repair runs one)");
                }
                System.out.println("status: " + status + " (leader " + (leader == null ? "none" : leader) + ", " + live + " of "
                        + total + " nodes live, N=" + info.replicas() + " N_W=" + info.writeQuorum() + " N_R=" + info.readQuorum() + ")");
                // The census counts are from the nodes' last census; null when none has run (rather than a guess).
                new AdminOutput(shared.json).field("status", status).field("leader", leader).field("liveNodes", live)
                        .field("replicas", info.replicas()).field("writeQuorum", info.writeQuorum())
                        .field("readQuorum", info.readQuorum()).field("nodes", nodes)
                        .field("underReplicatedChunks", counted ? belowN : null)
                        .field("belowWriteQuorumChunks", counted ? belowW : null).finish();
                return code;
            }
        }

        /** Prints one line per member (reachable or not) and returns the same facts for --json. */
        private static List<Map<String, Object>> printNodes(ClusterInfo info, Map<String, NodeStatus> byId, long leaderCommit) {
            System.out.printf("%-10s %-10s %-9s %6s %8s %8s %6s %10s %12s%n", "NODE", "REACHABLE", "ROLE", "TERM",
                    "COMMIT", "APPLIED", "LAG", "CHUNKS", "STORED");
            List<Map<String, Object>> nodes = new ArrayList<>();
            for (ClusterInfo.Node peer : info.nodes()) {
                NodeStatus s = byId.get(peer.id());
                Map<String, Object> n = new LinkedHashMap<>();
                n.put("id", peer.id());
                n.put("endpoint", peer.endpoint());
                n.put("reachable", s != null);
                if (s == null) {
                    System.out.printf("%-10s %-10s%n", peer.id(), "no");
                } else {
                    long lag = leaderCommit < 0 ? 0 : Math.max(0, leaderCommit - s.appliedIndex());
                    System.out.printf("%-10s %-10s %-9s %6d %8d %8d %6d %10d %12s%n", peer.id(), "yes", s.role(), s.term(),
                            s.commitIndex(), s.appliedIndex(), lag, s.chunkCount(), Output.bytes(s.storedBytes()));
                    n.put("role", s.role());
                    n.put("term", s.term());
                    n.put("commitIndex", s.commitIndex());
                    n.put("appliedIndex", s.appliedIndex());
                    n.put("lag", lag);
                    n.put("chunks", s.chunkCount());
                    n.put("storedBytes", s.storedBytes());
                }
                nodes.add(n);
            }
            return nodes;
        }

        private static String leaderOrEmpty(String leader) {
            return leader == null ? "" : leader;
        }
    }

    @Command(name = "repair", mixinStandardHelpOptions = true,
            description = {"Restores every chunk to N replicas now: each node walks its chunks, counts those below N and "
                    + "N_W, and copies them to the placement nodes that lack them. On a terminal, shows each node on stderr as it finishes; then a summary.",
                "Exit 0 when every node finished and nothing is left below N, 1 otherwise."},
            footer = {"", "Example:", "  cairn admin repair"})
    static final class Repair implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                AdminOutput.progressLine("repair: running a pass on every node...");
                CairnAdmin.NodeReports<RepairReport> reports = cairn.repair(
                        RepairMode.RUN, AdminOutput.progress("repair"));
                AdminOutput out = new AdminOutput(shared.json);
                long scanned = 0;
                long copies = 0;
                long bytes = 0;
                long unreachable = 0;
                for (RepairReport r : reports.reports().values()) {
                    out.node(r.nodeId(), r.scannedChunks() + " chunks counted, " + r.copiesRepaired() + " copies sent ("
                            + Output.bytes(r.bytesRepaired()) + ") in " + r.durationMillis() + " ms"
                            + (r.unreachablePeers() > 0 ? ", " + r.unreachablePeers() + " peers unreachable" : ""));
                    scanned += r.scannedChunks();
                    copies += r.copiesRepaired();
                    bytes += r.bytesRepaired();
                    unreachable += r.unreachablePeers();
                }
                reports.failures().forEach((node, why) -> out.node(node, "failed: " + why));
                // What is left: a census pass after the copies, on the nodes that answered.
                CairnAdmin.NodeReports<RepairReport> after = cairn.repair(
                        RepairMode.RUN, CairnAdmin.NodeListener.NONE);
                long leftBelowN = after.reports().values().stream().mapToLong(RepairReport::belowReplicas).sum();
                out.summary(scanned + " chunks, " + copies + " copies restored (" + Output.bytes(bytes) + "), " + leftBelowN
                        + " chunks still below N" + (unreachable > 0 || !reports.failures().isEmpty()
                        ? " (some nodes were unreachable: repair again when they are back)" : ""));
                out.field("chunks", scanned).field("copiesRepaired", copies).field("bytesRepaired", bytes)
                        .field("underReplicatedChunks", leftBelowN).field("failedNodes", reports.failures().keySet()).finish();
                return reports.failures().isEmpty() && leftBelowN == 0 ? 0 : 1;
            }
        }
    }

    @Command(name = "scrub", mixinStandardHelpOptions = true,
            description = {"Re-reads and re-hashes every chunk on every node now and replaces bad copies with verified "
                    + "copies from peers.", "Exit 0 when every node finished and nothing was left unrepaired, 1 otherwise."},
            footer = {"", "Example:", "  cairn admin scrub --json | tail -1"})
    static final class Scrub implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                AdminOutput.progressLine("scrub: re-hashing every chunk on every node...");
                CairnAdmin.NodeReports<ScrubReport> reports = cairn.scrub(AdminOutput.progress("scrub"));
                AdminOutput out = new AdminOutput(shared.json);
                long checked = 0;
                long corrupt = 0;
                long repaired = 0;
                long unrepairable = 0;
                for (ScrubReport r : reports.reports().values()) {
                    out.node(r.nodeId(), r.checked() + " chunks checked, " + r.corrupt() + " corrupt, " + r.repaired()
                            + " repaired, " + r.unrepairable() + " unrepairable, " + r.durationMillis() + " ms");
                    checked += r.checked();
                    corrupt += r.corrupt();
                    repaired += r.repaired();
                    unrepairable += r.unrepairable();
                }
                reports.failures().forEach((node, why) -> out.node(node, "failed: " + why));
                out.summary(checked + " checked, " + corrupt + " corrupt, " + repaired + " repaired, " + unrepairable
                        + " unrepairable");
                out.field("checked", checked).field("corrupt", corrupt).field("repaired", repaired)
                        .field("unrepairable", unrepairable).field("failedNodes", reports.failures().keySet()).finish();
                return reports.failures().isEmpty() && unrepairable == 0 ? 0 : 1;
            }
        }
    }

    @Command(name = "gc", mixinStandardHelpOptions = true,
            description = {"Runs one garbage collection epoch: every node marks what puts write or confirm, the chunks of "
                    + "every committed image are marked live, and each node tombstones the rest (docs/gc.md). Puts keep "
                    + "running meanwhile. On a terminal, the coordinator's phases are shown on stderr as they happen.",
                "Exit 0 when every node swept, 1 when the epoch was abandoned or a node skipped the sweep (the reason "
                    + "is printed: a node down, upload sessions still open past --max-wait)."},
            footer = {"", "Example:", "  cairn admin gc --json | tail -1"})
    static final class Gc implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @picocli.CommandLine.Option(names = "--max-wait", paramLabel = "SECONDS", defaultValue = "90",
                description = "How long to wait for upload sessions opened before the epoch (default ${DEFAULT-VALUE}: "
                        + "past the 60 s lease, so that a session a dead client left open has run out; a put still "
                        + "running renews its session and holds the epoch until it ends).")
        long maxWaitSeconds;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                AdminOutput.progressLine("gc: running one epoch (waits up to " + maxWaitSeconds + " s for older upload sessions)...");
                // The coordinator's phases as they happen, not all at the end.
                GcReport r = cairn.gc(java.time.Duration.ofSeconds(Math.max(0, maxWaitSeconds)),
                        line -> AdminOutput.progressLine("gc: " + line));
                AdminOutput out = new AdminOutput(shared.json);
                Map<String, Object> nodes = new LinkedHashMap<>();
                for (GcReport.Sweep s : r.sweeps().values()) {
                    out.node(s.nodeId(), "freed " + s.freedChunks() + " chunks, " + Output.bytes(s.freedBytes()) + " ("
                            + s.freedBytes() + " bytes); kept " + s.keptChunks() + "; " + s.durationMillis() + " ms");
                    Map<String, Object> node = new LinkedHashMap<>(); // fixed key order for scripts
                    node.put("freedChunks", s.freedChunks());
                    node.put("freedBytes", s.freedBytes());
                    nodes.put(s.nodeId(), node);
                }
                r.skipped().forEach((node, why) -> out.node(node, "skipped the sweep: " + why));
                out.summary("epoch " + r.epoch() + (r.completed() ? " done" : " abandoned: " + r.abandonedBecause()) + "; "
                        + r.images() + " images, " + r.liveChunks() + " live chunk references; freed " + r.freedChunks()
                        + " chunks, " + Output.bytes(r.freedBytes()) + " in " + r.durationMillis() + " ms");
                out.field("epoch", r.epoch()).field("completed", r.completed()).field("reason", r.abandonedBecause())
                        .field("freedChunks", r.freedChunks()).field("freedBytes", r.freedBytes()).field("nodes", nodes)
                        .field("skippedNodes", r.skipped().keySet()).field("durationMillis", r.durationMillis()).finish();
                return r.completed() ? 0 : 1;
            }
        }
    }
}
