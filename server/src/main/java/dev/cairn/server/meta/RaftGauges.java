package dev.cairn.server.meta;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToLongFunction;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

/** This node's Raft figures, read through Ratis' own API: its status and the gauges of its role, term and indexes. */
final class RaftGauges implements AutoCloseable {

    private final String nodeId;
    private final RaftNode raft;
    /** Registries holding this node's gauges, emptied of them at close. */
    private final List<MetricRegistry> metricRegistries = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    RaftGauges(String nodeId, RaftNode raft) {
        this.nodeId = nodeId;
        this.raft = raft;
    }

    /** This node's view of the group. */
    MetaStatus status() {
        RaftServer.Division division = raft.division();
        DivisionInfo info = division.getInfo();
        RaftPeerId leader = info.getLeaderId();
        return new MetaStatus(nodeId, info.getCurrentRole().name(), info.getCurrentTerm(),
                leader == null ? null : leader.toString(), division.getRaftLog().getLastCommittedIndex(),
                info.getLastAppliedIndex());
    }

    /** Names of the gauges {@link #register} adds. */
    static final List<String> GAUGES = List.of("cairn_raft_role", "cairn_raft_term", "cairn_raft_commit_index",
            "cairn_raft_applied_index", "cairn_raft_follower_lag");

    /**
     * Adds this node's Raft figures to {@code registry} as gauges, read through Ratis' own API
     * on every read of the gauge (no Ratis metrics registry involved):
     * {@code cairn_raft_role} (0 follower, 1 candidate, 2 leader, 3 listener, -1 unknown),
     * {@code cairn_raft_term}, {@code cairn_raft_commit_index}, {@code cairn_raft_applied_index}
     * and {@code cairn_raft_follower_lag} (on the leader, the largest number of log entries a
     * follower is missing; 0 elsewhere). A gauge reads -1 once this service is closed. Replaces
     * gauges of the same names; {@link #close()} removes them.
     */
    void register(MetricRegistry registry) {
        Map<String, Gauge<Long>> gauges = new LinkedHashMap<>();
        gauges.put("cairn_raft_role", () -> raftFigure(d -> switch (d.getInfo().getCurrentRole()) {
            case FOLLOWER -> 0L;
            case CANDIDATE -> 1L;
            case LEADER -> 2L;
            case LISTENER -> 3L;
            default -> -1L;
        }));
        gauges.put("cairn_raft_term", () -> raftFigure(d -> d.getInfo().getCurrentTerm()));
        gauges.put("cairn_raft_commit_index", () -> raftFigure(d -> d.getRaftLog().getLastCommittedIndex()));
        gauges.put("cairn_raft_applied_index", () -> raftFigure(d -> d.getInfo().getLastAppliedIndex()));
        gauges.put("cairn_raft_follower_lag", () -> raftFigure(RaftGauges::followerLag));
        for (Map.Entry<String, Gauge<Long>> g : gauges.entrySet()) {
            registry.remove(g.getKey());
            registry.register(g.getKey(), g.getValue());
        }
        metricRegistries.add(registry);
    }

    /** On the leader: how many entries the furthest-behind follower lacks; 0 on other roles. */
    private static long followerLag(RaftServer.Division d) {
        DivisionInfo info = d.getInfo();
        if (!info.isLeader()) {
            return 0;
        }
        long[] matched = info.getFollowerMatchIndices();
        long last = d.getRaftLog().getNextIndex() - 1;
        long lag = 0;
        if (matched != null) {
            for (long m : matched) {
                lag = Math.max(lag, last - m);
            }
        }
        return lag;
    }

    private long raftFigure(ToLongFunction<RaftServer.Division> figure) {
        if (closed) {
            return -1;
        }
        try {
            return figure.applyAsLong(raft.division());
        } catch (RuntimeException e) {
            return -1; // closing, or not (yet) a member: a gauge must not throw
        }
    }

    /** Removes the gauges from every registry they were added to; a gauge still held reads -1. */
    @Override
    public void close() {
        closed = true;
        for (MetricRegistry registry : metricRegistries) {
            GAUGES.forEach(registry::remove);
        }
    }
}
