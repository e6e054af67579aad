package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.engine.protocol.Messages;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code cairn admin …}: what operators use to see and keep the cluster healthy. */
@Command(name = "admin", mixinStandardHelpOptions = true,
        description = "Cluster administration: health now; repair, scrub, gc and nodes come with replication.",
        subcommands = AdminCommands.Health.class)
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
            CairnClient connected;
            try {
                connected = shared.connect();
            } catch (dev.cairn.client.CairnException.ClusterUnreachable e) {
                System.out.println("status: unavailable (" + e.getMessage() + ")");
                if (shared.json) {
                    Map<String, Object> j = new LinkedHashMap<>();
                    j.put("status", "unavailable");
                    j.put("leader", null);
                    j.put("liveNodes", 0);
                    j.put("nodes", List.of());
                    j.put("underReplicatedChunks", null);
                    Output.json(System.out, j);
                }
                return UNAVAILABLE;
            }
            try (CairnClient cairn = connected) {
                Messages.ClusterInfo info = cairn.clusterInfo();
                List<Messages.NodeStatus> statuses = cairn.nodeStatuses();
                Map<String, Messages.NodeStatus> byId = new LinkedHashMap<>();
                statuses.forEach(s -> byId.put(s.nodeId(), s));
                String leader = statuses.stream().filter(s -> "LEADER".equals(s.role())).map(Messages.NodeStatus::nodeId)
                        .findFirst().orElse(null);
                long leaderCommit = statuses.stream().filter(s -> s.nodeId().equals(leaderOrEmpty(leader)))
                        .mapToLong(Messages.NodeStatus::commitIndex).findFirst().orElse(-1);
                int live = statuses.size();
                int total = info.nodes().size();
                String status;
                int code;
                if (leader == null || live < info.writeQuorum() || live <= total / 2) {
                    status = "unavailable";
                    code = UNAVAILABLE;
                } else if (live < total) {
                    status = "degraded";
                    code = DEGRADED;
                } else {
                    status = "healthy";
                    code = HEALTHY;
                }
                System.out.printf("%-10s %-10s %-9s %6s %8s %8s %6s %10s %12s%n", "NODE", "REACHABLE", "ROLE", "TERM",
                        "COMMIT", "APPLIED", "LAG", "CHUNKS", "STORED");
                List<Map<String, Object>> nodes = new ArrayList<>();
                for (Messages.Peer peer : info.nodes()) {
                    Messages.NodeStatus s = byId.get(peer.id());
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
                System.out.println();
                System.out.println("status: " + status + " (leader " + (leader == null ? "none" : leader) + ", " + live + " of "
                        + total + " nodes live, N=" + info.replicas() + " N_W=" + info.writeQuorum() + " N_R=" + info.readQuorum() + ")");
                if (shared.json) {
                    Map<String, Object> j = new LinkedHashMap<>();
                    j.put("status", status);
                    j.put("leader", leader);
                    j.put("liveNodes", live);
                    j.put("replicas", info.replicas());
                    j.put("writeQuorum", info.writeQuorum());
                    j.put("readQuorum", info.readQuorum());
                    j.put("nodes", nodes);
                    // Not measured until the replication census exists; null rather than a guess.
                    j.put("underReplicatedChunks", null);
                    Output.json(System.out, j);
                }
                return code;
            }
        }

        private static String leaderOrEmpty(String leader) {
            return leader == null ? "" : leader;
        }
    }
}
