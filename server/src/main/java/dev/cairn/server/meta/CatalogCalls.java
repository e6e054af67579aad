package dev.cairn.server.meta;

import dev.cairn.config.NodeConfig;
import dev.cairn.engine.Clock;
import dev.cairn.server.meta.CatalogException.Code;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends catalog requests to the metadata group: writes through the Raft log, linearizable reads
 * at the leader, session reads at this node's replica; maps every failure, within
 * {@link #OPERATION_TIMEOUT}, to a {@link CatalogException}.
 */
final class CatalogCalls implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogCalls.class);

    /** Upper bound of any catalog operation, leader elections and client retries included. */
    static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(15);
    private static final long READ_RETRY_SLEEP_MS = 200;

    private final NodeConfig config;
    private final RaftNode raft;
    /** Retry delays and reachability probes; never blocks a Ratis thread. */
    private final ScheduledExecutorService scheduler;
    /** Measures each operation against {@link #OPERATION_TIMEOUT}. */
    private final Clock clock;
    /**
     * Writes: ordered, retried by Ratis (same client and call id, so the retry cache dedups them).
     * Replaced when Ratis has closed it ({@link #renewIfClosed}).
     */
    private volatile RaftClient client;
    /**
     * Reads: single attempts at the leader this node knows; {@link #read} retries them. Replaced
     * when Ratis has closed it, as the write client is.
     */
    private volatile RaftClient readClient;
    private volatile boolean closed;

    CatalogCalls(NodeConfig config, RaftNode raft, ScheduledExecutorService scheduler, Clock clock) {
        this.config = config;
        this.raft = raft;
        this.scheduler = scheduler;
        this.clock = clock;
        this.client = raft.newWriteClient();
        this.readClient = raft.newReadClient();
    }

    /**
     * After a failed request: if Ratis closed the client that sent it (an ordered client's window
     * to a server closes for good once a request's retries ran out, which for the read client,
     * with no retries, is its first failure), builds a new one, so that this node's next requests
     * go through again. Seen in a chaos run: after faults, every read of one node failed at once
     * with "SlidingWindow$Client ... is closed" while the cluster had a leader.
     */
    private void renewIfClosed(RaftClient failed, Throwable cause) {
        if (closed || !causedByClosedClient(cause)) {
            return;
        }
        String which;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (failed == client) {
                client = raft.newWriteClient();
                addCurrentPeers(client);
                which = "write";
            } else if (failed == readClient) {
                readClient = raft.newReadClient();
                addCurrentPeers(readClient);
                which = "read";
            } else {
                return; // renewed already by another failed request
            }
        }
        LOG.warn("metadata {} client was closed by Ratis ({}); replaced it", which, rootMessage(cause));
        RaftNode.closeQuietly(failed);
    }

    /** A test seam: closes both clients as Ratis does when a request's retries run out. */
    void closeClientsForTest() {
        RaftNode.closeQuietly(client);
        RaftNode.closeQuietly(readClient);
    }

    private static boolean causedByClosedClient(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof AlreadyClosedException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Lets this node's Raft clients reach every peer of the current configuration: a peer added
     * after start (not in the config file) may become the leader, and a read is sent to the
     * leader by id.
     */
    void syncClientPeers() {
        addCurrentPeers(client);
        addCurrentPeers(readClient);
    }

    private void addCurrentPeers(RaftClient c) {
        try {
            c.getClientRpc().addRaftPeers(raft.division().getRaftConf().getAllPeers());
        } catch (RuntimeException e) {
            LOG.debug("cannot update the Raft clients' peers: {}", e.toString());
        }
    }

    /** A write through the Raft log. */
    CompletableFuture<Reply> submit(Request request) {
        long startNanos = clock.nanoTime();
        Message message = message(request);
        CompletableFuture<RaftClientReply> sent;
        RaftClient writer = client;
        try {
            sent = writer.async().send(message);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.orTimeout(OPERATION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .handle((reply, error) -> {
                    if (error == null && reply.isSuccess()) {
                        return CompletableFuture.completedFuture(reply);
                    }
                    Throwable cause = error != null ? unwrap(error) : reply.getException();
                    if (cause == null) {
                        cause = new IOException("unsuccessful Raft reply without an exception");
                    }
                    renewIfClosed(writer, cause);
                    return this.<RaftClientReply>fail(request, cause, startNanos);
                })
                .thenCompose(f -> f)
                .thenApply(reply -> checkStatus(request, reply));
    }

    /**
     * A linearizable read, always sent to the leader this node knows.
     *
     * <p>Why not let Ratis route it: with read option LINEARIZABLE, a <em>follower</em> that gets a
     * read asks the leader for a read index over the server async protocol, which ratis-netty
     * 3.3.0 does not implement; the read then hangs until the RPC times out. A leader serves the
     * read itself (read index confirmed by a heartbeat round to a majority), so reads go to the
     * leader, and are retried at the new leader when it changes.
     */
    CompletableFuture<Reply> read(Request request) {
        long startNanos = clock.nanoTime();
        CompletableFuture<Reply> result = new CompletableFuture<>();
        attemptRead(request, message(request), startNanos, null, result);
        return result;
    }

    private void attemptRead(Request request, Message message, long startNanos, Throwable lastFailure,
                             CompletableFuture<Reply> result) {
        long remainingNanos = OPERATION_TIMEOUT.toNanos() - (clock.nanoTime() - startNanos);
        if (remainingNanos <= 0) {
            Throwable cause = lastFailure != null ? lastFailure : new TimeoutException();
            this.<Reply>fail(request, cause, startNanos).whenComplete((r, e) -> result.completeExceptionally(unwrap(e)));
            return;
        }
        RaftPeerId leader;
        try {
            leader = raft.division().getInfo().getLeaderId();
        } catch (CatalogException e) {
            result.completeExceptionally(e);
            return;
        }
        if (leader == null) {
            retryRead(request, message, startNanos, new IOException("no leader known to node " + config.nodeId()), result);
            return;
        }
        CompletableFuture<RaftClientReply> sent;
        RaftClient reader = readClient;
        try {
            sent = reader.async().sendReadOnly(message, leader);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.orTimeout(remainingNanos, TimeUnit.NANOSECONDS).whenComplete((reply, error) -> {
            if (error == null && reply.isSuccess()) {
                try {
                    result.complete(checkStatus(request, reply));
                } catch (CatalogException e) {
                    result.completeExceptionally(e);
                }
                return;
            }
            Throwable cause = error != null ? unwrap(error) : reply.getException();
            renewIfClosed(reader, cause);
            if (cause instanceof StateMachineException) {
                fail(request, cause, startNanos).whenComplete((r, e) -> result.completeExceptionally(unwrap(e)));
            } else {
                retryRead(request, message, startNanos, cause, result);
            }
        });
    }

    private void retryRead(Request request, Message message, long startNanos, Throwable cause,
                           CompletableFuture<Reply> result) {
        try {
            scheduler.schedule(() -> attemptRead(request, message, startNanos, cause, result),
                    READ_RETRY_SLEEP_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new CatalogException(Code.UNAVAILABLE, "metadata service is closed", e));
        }
    }

    /**
     * A query against this node's own catalog replica once it has applied {@code minIndex}: a
     * session read, served without the leader, so possibly behind it.
     */
    CompletableFuture<MetaService.SessionRead> readLocally(Request request, long minIndex) {
        CatalogStateMachine machine;
        try {
            machine = raft.stateMachine();
        } catch (CatalogException e) {
            return CompletableFuture.failedFuture(e);
        }
        // The query runs once this replica has applied minIndex, against its own state.
        return machine.appliedAtLeast(minIndex, OPERATION_TIMEOUT)
                .thenCompose(applied -> machine.query(message(request)))
                .handle((answer, error) -> {
                    if (error != null) {
                        Throwable cause = unwrap(error);
                        if (cause instanceof TimeoutException) {
                            throw new CatalogException(Code.UNAVAILABLE, "node " + config.nodeId()
                                    + " has applied the catalog up to index " + machine.getLastAppliedTermIndex().getIndex()
                                    + ", not yet to " + minIndex + " (the session's last index), within "
                                    + OPERATION_TIMEOUT.toSeconds() + " s; retry, or read through the leader", cause);
                        }
                        throw cause instanceof CatalogException c ? c
                                : new CatalogException(Code.UNAVAILABLE, "session read failed: " + cause.getMessage(), cause);
                    }
                    Reply reply = checkStatus(request, answer);
                    return new MetaService.SessionRead(reply.images(), machine.getLastAppliedTermIndex().getIndex());
                });
    }

    private static Message message(Request request) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(CatalogMessages.encode(request)));
    }

    private static Reply checkStatus(Request request, RaftClientReply raftReply) {
        return checkStatus(request, raftReply.getMessage());
    }

    private static Reply checkStatus(Request request, Message answer) {
        Reply reply;
        try {
            reply = CatalogReplyCodec.decodeReply(answer.getContent().asReadOnlyByteBuffer());
        } catch (MalformedMessageException e) {
            throw new CatalogException(Code.INVALID, request.type() + ": " + e.getMessage(), e);
        }
        switch (reply.status()) {
            case OK:
                return reply;
            case NOT_FOUND:
                throw new CatalogException(Code.NOT_FOUND, reply.message());
            case EXISTS:
                throw new CatalogException(Code.EXISTS, reply.message());
            case SESSION_EXPIRED:
                throw new CatalogException(Code.SESSION_EXPIRED, reply.message());
            case BUSY:
                throw new CatalogException(Code.BUSY, reply.message());
            case QUOTA_EXCEEDED:
                throw new CatalogException(Code.QUOTA_EXCEEDED, reply.message());
            case IN_USE:
                throw new CatalogException(Code.IN_USE, reply.message());
            default:
                throw new CatalogException(Code.INVALID, reply.message());
        }
    }

    private int raftPeerCount() {
        try {
            return raft.division().getRaftConf().getCurrentPeers().size();
        } catch (RuntimeException e) {
            return config.nodes().size();
        }
    }

    /** Maps a Ratis failure to a CatalogException; for unavailability, says how many nodes answer. */
    private <T> CompletableFuture<T> fail(Request request, Throwable cause, long startNanos) {
        if (cause instanceof CatalogException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (cause instanceof StateMachineException) {
            return CompletableFuture.failedFuture(new CatalogException(Code.INVALID,
                    request.type() + " refused by the catalog: " + rootMessage(cause), cause));
        }
        // Everything else - retries exhausted, timeouts, no leader, closed client - means that no
        // leader with a quorum answered in time. A write's outcome is then unknown: it may still
        // commit if the quorum comes back.
        long seconds = Math.max(1, Math.round((clock.nanoTime() - startNanos) / 1e9));
        CompletableFuture<Integer> probe;
        try {
            probe = CompletableFuture.supplyAsync(this::answeringNodes, scheduler);
        } catch (RejectedExecutionException e) {
            probe = CompletableFuture.completedFuture(-1); // closing: no probe
        }
        return probe
                .exceptionally(t -> -1)
                .thenApply(answering -> {
                    String who = answering < 0 ? "" : " (" + answering + " of " + raftPeerCount() + " nodes answer)";
                    throw new CatalogException(Code.UNAVAILABLE, "metadata quorum unavailable: no Raft leader reachable within "
                            + seconds + "s" + who + "; " + request.type() + " failed: " + rootMessage(cause), cause);
                });
    }

    /** How many nodes accept a connection on their raft port right now. */
    private int answeringNodes() {
        int answering = 0;
        for (RaftPeer peer : raft.division().getRaftConf().getCurrentPeers()) {
            if (RaftNode.answers(peer.getAddress())) {
                answering++;
            }
        }
        return answering;
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static String rootMessage(Throwable t) {
        if (t instanceof TimeoutException) {
            return "timed out after " + OPERATION_TIMEOUT.toSeconds() + "s";
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        return root.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** Waits for {@code future} on the calling thread; a CatalogException comes out as itself. */
    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            Throwable cause = unwrap(e);
            throw cause instanceof RuntimeException r ? r : e;
        }
    }

    /** Closes both clients; a request that fails afterwards no longer renews them. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            RaftNode.closeQuietly(client);
            RaftNode.closeQuietly(readClient);
        }
    }
}
