package dev.cairn.server.meta;

import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.engine.Clock;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import dev.cairn.server.meta.CatalogException.Code;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMemberMessages.AddMember;
import dev.cairn.server.meta.CatalogMemberMessages.MarkLeaving;
import dev.cairn.server.meta.CatalogMemberMessages.RemoveMember;
import dev.cairn.server.meta.CatalogMemberMessages.SeedMembers;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Membership changes: the first membership (seeded from the config), and adding, marking leaving
 * and dropping nodes, each a Raft configuration change and a catalog entry.
 */
final class MembershipChanges implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MembershipChanges.class);

    /** How often a node that finds no membership in its catalog offers the config's node list. */
    private static final long SEED_RETRY_MS = 1000;
    /** How long a Raft configuration change may take, the new peer's catch-up included. */
    private static final TimeDuration ADMIN_REQUEST_TIMEOUT = TimeDuration.valueOf(20, TimeUnit.SECONDS);
    private static final int ADMIN_MAX_ATTEMPTS = 3;
    /** How often {@link #requireSeeded} looks whether this replica has applied the seed. */
    private static final long SEED_POLL_MS = 50;

    private final NodeConfig config;
    private final RaftNode raft;
    private final CatalogCalls requests;
    /** Seed attempts; shared with the catalog requests, never blocks. */
    private final ScheduledExecutorService scheduler;
    /** Measures the wait for the seed against {@link CatalogCalls#OPERATION_TIMEOUT}. */
    private final Clock clock;
    private final AtomicBoolean seeding = new AtomicBoolean();
    /** Raft configuration changes, one at a time; they block on Ratis' admin call. */
    private final ExecutorService admin = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "cairn-meta-admin");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    MembershipChanges(NodeConfig config, RaftNode raft, CatalogCalls requests, ScheduledExecutorService scheduler,
                      Clock clock) {
        this.config = config;
        this.raft = raft;
        this.requests = requests;
        this.scheduler = scheduler;
        this.clock = clock;
    }

    /** The membership this node's catalog replica has applied; see {@link MetaService#membership()}. */
    Membership membership() {
        try {
            return raft.stateMachine().membership();
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "cannot read the membership: " + e.getMessage(), e);
        }
    }

    /**
     * Until the catalog holds a membership, offers the config's node list as the first one, once
     * a second. Every node does; the first entry applied wins and later ones are refused (EXISTS),
     * so the seed is whatever one node's config said, recorded once.
     */
    void seedInBackground() {
        AtomicReference<ScheduledFuture<?>> task = new AtomicReference<>();
        Runnable attempt = () -> {
            try {
                if (closed || seeding.get()) {
                    return;
                }
                if (membership().isSeeded()) {
                    ScheduledFuture<?> f = task.get();
                    if (f != null) {
                        f.cancel(false); // done: the catalog holds a membership from now on
                    }
                    return;
                }
                if (raft.division().getInfo().getLeaderId() == null) {
                    return; // no leader yet: an entry would only wait
                }
                seeding.set(true);
                List<Member> seed = config.nodes().stream().map(MembershipChanges::member).toList();
                requests.submit(new SeedMembers(seed)).whenComplete((reply, error) -> {
                    seeding.set(false);
                    if (error == null) {
                        LOG.info("membership seeded from the config of node {}: {} nodes", config.nodeId(), seed.size());
                    }
                });
            } catch (RuntimeException e) {
                seeding.set(false);
                LOG.debug("membership seed attempt failed: {}", e.toString());
            }
        };
        try {
            task.set(scheduler.scheduleWithFixedDelay(attempt, 0, SEED_RETRY_MS, TimeUnit.MILLISECONDS));
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    static Member member(NodeAddress n) {
        return new Member(n.id(), n.host(), n.port(), n.raftPort(), n.httpPort(), n.zone(), MemberState.ACTIVE);
    }

    /** The ids of the peers in the current Raft configuration, as this node knows it. */
    List<String> raftPeers() {
        return raft.division().getRaftConf().getCurrentPeers().stream().map(p -> p.getId().toString()).sorted().toList();
    }

    /** See {@link MetaService#addMember}. */
    CompletableFuture<Long> addMember(NodeAddress node) {
        return CompletableFuture.supplyAsync(() -> {
            Membership current = requireSeeded();
            Member add = member(node);
            Optional<Member> existing = current.member(node.id());
            if (existing.isPresent() && !existing.get().equals(add)) {
                throw new CatalogException(Code.EXISTS, "node " + node.id() + " is already a member ("
                        + existing.get().endpoint() + ", " + existing.get().state() + "); choose another id");
            }
            if (!raftPeers().contains(node.id())) {
                if (!RaftNode.answers(node.host(), node.raftPort())) {
                    throw new CatalogException(Code.UNAVAILABLE, "node " + node.id() + " does not answer on its raft port "
                            + node.host() + ":" + node.raftPort() + "; start it first (cairn server --config FILE, "
                            + "with join: true in FILE) and run add again");
                }
                List<RaftPeer> peers = new ArrayList<>(raft.division().getRaftConf().getCurrentPeers());
                peers.add(RaftNode.peer(node.id(), node.host(), node.raftPort()));
                setConfiguration(peers, "add node " + node.id());
            }
            return CatalogCalls.join(requests.submit(new AddMember(add)).thenApply(Reply::index));
        }, admin);
    }

    /** See {@link MetaService#markLeaving}. */
    CompletableFuture<Long> markLeaving(String id) {
        return CompletableFuture.supplyAsync(() -> {
            requireSeeded();
            return CatalogCalls.join(requests.submit(new MarkLeaving(id, config.quorum().replicas())).thenApply(Reply::index));
        }, admin);
    }

    /** See {@link MetaService#dropMember}. */
    CompletableFuture<Long> dropMember(String id) {
        return CompletableFuture.supplyAsync(() -> {
            Membership current = requireSeeded();
            Optional<Member> member = current.member(id);
            if (member.isPresent() && member.get().state() != MemberState.LEAVING) {
                throw new CatalogException(Code.INVALID, "node " + id + " is active; mark it leaving and re-replicate"
                        + " its chunks first (cairn admin nodes remove " + id + " does both)");
            }
            if (member.isEmpty() && !raftPeers().contains(id)) {
                throw new CatalogException(Code.NOT_FOUND, "node " + id + " is not a member; cairn admin nodes lists them");
            }
            if (raftPeers().contains(id)) {
                dropFromRaft(id);
            }
            if (member.isEmpty()) {
                return membership().index();
            }
            return CatalogCalls.join(requests.submit(new RemoveMember(id)).thenApply(Reply::index));
        }, admin);
    }

    private void dropFromRaft(String id) {
        if (id.equals(config.nodeId())) {
            throw new CatalogException(Code.INVALID, "node " + id + " cannot drop itself from the Raft group;"
                    + " send the request to another node");
        }
        List<RaftPeer> remaining = raft.division().getRaftConf().getCurrentPeers().stream()
                .filter(p -> !p.getId().toString().equals(id)).toList();
        long answering = remaining.stream().filter(p -> RaftNode.answers(p.getAddress())).count();
        if (remaining.isEmpty() || answering <= remaining.size() / 2) {
            throw new CatalogException(Code.UNAVAILABLE, "dropping node " + id + " would leave a metadata group of "
                    + remaining.size() + " nodes of which only " + answering + " answer, no majority;"
                    + " bring the others back first");
        }
        setConfiguration(remaining, "drop node " + id);
    }

    /**
     * The membership, seeded from this node's config first if the catalog holds none yet (a
     * cluster that started on an older build, or whose nodes all restarted before the seed).
     */
    private Membership requireSeeded() {
        Membership current = membership();
        if (current.isSeeded()) {
            return current;
        }
        if (config.join()) {
            throw new CatalogException(Code.UNAVAILABLE, "node " + config.nodeId() + " joined recently and its catalog"
                    + " holds no membership yet; send the request to another node");
        }
        try {
            CatalogCalls.join(requests.submit(new SeedMembers(config.nodes().stream().map(MembershipChanges::member).toList())));
        } catch (CatalogException e) {
            if (e.code() != Code.EXISTS) {
                throw e; // EXISTS: another node's seed was applied first, which is as good
            }
        }
        long deadline = clock.nanoTime() + CatalogCalls.OPERATION_TIMEOUT.toNanos();
        while (!(current = membership()).isSeeded()) {
            if (clock.nanoTime() - deadline > 0) {
                throw new CatalogException(Code.UNAVAILABLE, "node " + config.nodeId() + " has not applied the membership"
                        + " within " + CatalogCalls.OPERATION_TIMEOUT.toSeconds() + "s; check cairn admin health and retry");
            }
            try {
                Thread.sleep(SEED_POLL_MS); // this replica applies the seed entry shortly after the leader
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CatalogException(Code.UNAVAILABLE, "interrupted while waiting for the membership", e);
            }
        }
        return current;
    }

    private void setConfiguration(List<RaftPeer> peers, String what) {
        RaftProperties p = RaftNode.clientProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, ADMIN_REQUEST_TIMEOUT);
        List<RaftPeer> known = new ArrayList<>(raft.division().getRaftConf().getAllPeers());
        peers.stream().filter(n -> known.stream().noneMatch(k -> k.getId().equals(n.getId()))).forEach(known::add);
        try (RaftClient adminClient = RaftClient.newBuilder()
                .setProperties(p)
                .setParameters(raft.parameters())
                .setRaftGroup(RaftGroup.valueOf(RaftNode.GROUP_ID, known))
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(ADMIN_MAX_ATTEMPTS, RaftNode.CLIENT_RETRY_SLEEP))
                .build()) {
            RaftClientReply reply = adminClient.admin().setConfiguration(peers);
            if (!reply.isSuccess()) {
                throw new CatalogException(Code.UNAVAILABLE, "the metadata group refused to " + what + ": "
                        + CatalogCalls.rootMessage(reply.getException())
                        + "; check that every node runs, then run the command again");
            }
            LOG.info("Raft configuration changed ({}): {}", what, peers);
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "the metadata group could not " + what + ": "
                    + CatalogCalls.rootMessage(e)
                    + "; check that every node runs (a new node with join: true), then run the command again", e);
        }
    }

    /** Stops seeding and the admin thread; a change in progress is interrupted. */
    @Override
    public void close() {
        closed = true;
        admin.shutdownNow();
    }
}
