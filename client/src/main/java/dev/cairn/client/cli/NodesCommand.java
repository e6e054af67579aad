package dev.cairn.client.cli;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.Member;
import dev.cairn.client.Members;
import dev.cairn.client.NodeChange;
import dev.cairn.client.NodeStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn admin nodes …}: the membership, and adding, removing and replacing nodes. */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = {"Without a subcommand: the members of the cluster (id, endpoint, zone, state, Raft role), as the "
                + "catalog records them. add, remove and replace change the membership (docs/operations.md).",
            "Exit 0 when every member answered, 1 otherwise."},
        subcommands = {NodesCommand.Add.class, NodesCommand.Remove.class, NodesCommand.Replace.class},
        footer = {"", "Examples:", "  cairn admin nodes",
            "  cairn admin nodes add --id node-4 --host 10.0.0.4 --port 7400 \\",
            "      --raft-port 7401 --http-port 7402 --zone rack-2",
            "  cairn admin nodes remove node-2",
            "  cairn admin nodes replace node-2 --id node-5 --host 10.0.0.5 --port 7400 \\",
            "      --raft-port 7401 --http-port 7402"})
final class NodesCommand implements Callable<Integer> {

    @Mixin
    ImageCommands.Shared shared;

    @Override
    public Integer call() {
        try (CairnAdmin cairn = shared.admin()) {
            Members list = cairn.members();
            Map<String, NodeStatus> statuses = new LinkedHashMap<>();
            cairn.nodeStatuses().forEach(s -> statuses.put(s.nodeId(), s));
            System.out.printf("%-12s %-22s %-10s %-8s %s%n", "NODE", "ENDPOINT", "ZONE", "STATE", "RAFT");
            List<Map<String, Object>> nodes = new ArrayList<>();
            boolean allAnswer = true;
            for (Member m : list.members()) {
                NodeStatus s = statuses.get(m.id());
                boolean inGroup = list.raftPeers().contains(m.id());
                String role = s == null ? "unreachable" : inGroup ? s.role() : "not in the Raft group";
                allAnswer &= s != null;
                System.out.printf("%-12s %-22s %-10s %-8s %s%n", m.id(), m.endpoint(), m.zone().isEmpty() ? "-" : m.zone(),
                        m.state().name().toLowerCase(), role);
                Map<String, Object> n = new LinkedHashMap<>();
                n.put("id", m.id());
                n.put("endpoint", m.endpoint());
                n.put("raftPort", m.raftPort());
                n.put("httpPort", m.httpPort());
                n.put("zone", m.zone().isEmpty() ? null : m.zone());
                n.put("state", m.state().name().toLowerCase());
                n.put("inRaftGroup", inGroup);
                n.put("raftRole", s == null ? null : s.role());
                n.put("reachable", s != null);
                nodes.add(n);
            }
            // Raft peers the catalog does not list: an add that stopped between its two steps.
            for (String peer : list.raftPeers()) {
                if (list.members().stream().noneMatch(m -> m.id().equals(peer))) {
                    System.out.println("note: " + peer + " is in the Raft group but not a member in the catalog"
                            + " (an add stopped half way); run the same cairn admin nodes add again to finish it");
                }
            }
            System.out.println(list.members().size() + " members, membership index " + list.membershipIndex());
            new AdminOutput(shared.json).field("membershipIndex", list.membershipIndex()).field("nodes", nodes)
                    .field("raftPeers", list.raftPeers()).finish();
            return allAnswer ? 0 : 1;
        }
    }

    /** Where the new node listens; the same fields as a {@code nodes} entry of the config. */
    static final class NewNode {
        @Option(names = "--id", required = true, paramLabel = "ID", description = "the new node's id (1-32 letters, digits, _ or -); never reuse one")
        String id;

        @Option(names = "--host", required = true, paramLabel = "HOST", description = "host the new node listens on")
        String host;

        @Option(names = "--port", required = true, paramLabel = "PORT", description = "its Cairn protocol port")
        int port;

        @Option(names = "--raft-port", required = true, paramLabel = "PORT", description = "its Raft port")
        int raftPort;

        @Option(names = "--http-port", required = true, paramLabel = "PORT", description = "its HTTP port")
        int httpPort;

        @Option(names = "--zone", paramLabel = "ZONE", description = "its zone (rack, room, availability zone); default none")
        String zone;

        Member member() {
            try {
                dev.cairn.config.NodeAddress checked = new dev.cairn.config.NodeAddress(id, host, port, raftPort, httpPort, zone);
                return new Member(checked.id(), checked.host(), checked.port(), checked.raftPort(),
                        checked.httpPort(), checked.zone(), Member.State.ACTIVE);
            } catch (dev.cairn.config.ConfigException e) {
                throw new dev.cairn.client.CairnException(e.getMessage() + "; check the --id/--host/--port options");
            }
        }
    }

    /**
     * Each step of a change on stderr when it is a terminal; nothing otherwise, so that a script
     * sees the summary (and the JSON line) on stdout and, on failure, the one error line on stderr.
     */
    static java.util.function.Consumer<String> progress() {
        boolean terminal = Output.stderrIsTerminal();
        return line -> {
            if (terminal) {
                System.err.println("nodes: " + line);
            }
        };
    }

    static int report(NodeChange change, String what, ImageCommands.Shared shared) {
        AdminOutput out = new AdminOutput(shared.json);
        out.summary(what + " (membership index " + change.membershipIndex() + "); " + change.copiesMade() + " copies made ("
                + Output.bytes(change.bytesCopied()) + "), " + change.copiesDropped() + " old copies dropped; census: "
                + change.chunksCounted() + " chunks, " + change.chunksBelowReplicas() + " below N");
        out.field("action", change.action()).field("node", change.nodeId()).field("membershipIndex", change.membershipIndex())
                .field("copiesMade", change.copiesMade()).field("bytesCopied", change.bytesCopied())
                .field("copiesDropped", change.copiesDropped()).field("chunks", change.chunksCounted())
                .field("underReplicatedChunks", change.chunksBelowReplicas())
                .field("failedNodes", change.failedNodes().keySet()).finish();
        return 0;
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Adds a node that already runs with join: true in its config (listing the existing nodes and "
                    + "itself): the Raft group takes it in, the catalog records it as active, and a repair pass copies "
                    + "the chunks whose placement now includes it. Shows each step on a terminal, then a summary.",
                "Exit 0 when the node is a member and a census finds no chunk below N, 1 otherwise."},
            footer = {"", "Example:",
                "  cairn admin nodes add --id node-4 --host 10.0.0.4 --port 7400 \\",
                "      --raft-port 7401 --http-port 7402 --zone rack-2"})
    static final class Add implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @ArgGroup(exclusive = false, multiplicity = "1")
        NewNode node;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                Member member = node.member();
                NodeChange change = cairn.addNode(member, progress());
                return report(change, member.id() + " added", shared);
            }
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Removes a node: marks it leaving (refused when fewer than N active nodes would remain), "
                    + "re-replicates its chunks so that every chunk has N copies without it, checks that with a census, "
                    + "then drops it from the Raft group and the catalog. Stop the node afterwards. The node may be down "
                    + "(a lost disk); every other node must answer.",
                "Exit 0 when the node is removed, 1 otherwise (it then stays leaving; run the command again)."},
            footer = {"", "Example:", "  cairn admin nodes remove node-2"})
    static final class Remove implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Parameters(index = "0", paramLabel = "ID", description = "the node to remove")
        String id;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                NodeChange change = cairn.removeNode(id, progress());
                return report(change, id + " removed", shared);
            }
        }
    }

    @Command(name = "replace", mixinStandardHelpOptions = true,
            description = {"Replaces node OLD by a new node that already runs with join: true: add the new one (with a "
                    + "repair pass), then remove OLD (re-replication, census, drop). OLD may be down.",
                "Exit 0 when the new node is a member and OLD is removed, 1 otherwise."},
            footer = {"", "Example:",
                "  cairn admin nodes replace node-2 --id node-5 --host 10.0.0.5 --port 7400 \\",
                "      --raft-port 7401 --http-port 7402"})
    static final class Replace implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Parameters(index = "0", paramLabel = "OLD", description = "the node to replace")
        String oldId;

        @ArgGroup(exclusive = false, multiplicity = "1")
        NewNode node;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                Member member = node.member();
                NodeChange change = cairn.replaceNode(oldId, member, progress());
                return report(change, oldId + " replaced by " + member.id(), shared);
            }
        }
    }
}
