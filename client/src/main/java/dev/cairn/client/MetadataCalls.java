package dev.cairn.client;

import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.MessageType;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * Catalog and membership calls, which any node serves (it forwards to the Raft leader): asked of
 * the node that answered last first, then of the others in turn, and an ERROR answer mapped to the
 * {@link CairnException} a caller handles.
 */
final class MetadataCalls {

    private final Supplier<Map<String, NodeConnection>> connections;
    /** Where the next request to the next node goes after a failure: off the network threads. */
    private final Executor background;
    private volatile String preferredNode;

    MetadataCalls(Supplier<Map<String, NodeConnection>> connections, String firstNode, Executor background) {
        this.connections = connections;
        this.preferredNode = firstNode;
        this.background = background;
    }

    /**
     * Asks the nodes in turn, never {@code avoid} (may be null). Nodes that cannot be reached are
     * skipped; an answer, good or ERROR, ends the search.
     */
    NodeConnection.Reply call(MessageType type, ByteBuffer header, String avoid, Duration timeout) {
        Map<String, NodeConnection> connections = this.connections.get();
        List<String> order = metadataOrder(connections, avoid);
        List<String> failures = new ArrayList<>();
        for (String id : order) {
            try {
                NodeConnection.Reply reply = connections.get(id).call(type, header.duplicate(), List.of(), timeout).get();
                preferredNode = id;
                return reply;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NodeConnection.RemoteError remote) {
                    throw translate(remote);
                }
                failures.add(Failures.describe(connections.get(id), e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CairnException("interrupted");
            }
        }
        throw unreachable(failures);
    }

    /** The nodes a metadata call asks, in turn: the one that answered last first, never {@code avoid}. */
    private List<String> metadataOrder(Map<String, NodeConnection> connections, String avoid) {
        List<String> order = new ArrayList<>(connections.keySet());
        if (order.remove(preferredNode)) {
            order.add(0, preferredNode);
        }
        order.remove(avoid);
        return order;
    }

    private static CairnException.ClusterUnreachable unreachable(List<String> failures) {
        return new CairnException.ClusterUnreachable("cluster unreachable: " + String.join("; ", failures)
                + "; start the nodes or check --cluster", null);
    }

    /**
     * As {@link #call} without blocking
     * the caller: the future fails with the translated ERROR answer of the first node that answers,
     * or with {@link CairnException.ClusterUnreachable} when none does. The next node is asked from
     * the background thread, never from a network thread (a first call to a node connects and
     * blocks until connected).
     */
    CompletableFuture<NodeConnection.Reply> callAsync(MessageType type, ByteBuffer header, Duration timeout) {
        Map<String, NodeConnection> connections = this.connections.get();
        CompletableFuture<NodeConnection.Reply> result = new CompletableFuture<>();
        askInTurn(connections, metadataOrder(connections, null), 0, type, header, timeout, new ArrayList<>(), result);
        return result;
    }

    private void askInTurn(Map<String, NodeConnection> connections, List<String> order, int next, MessageType type,
                           ByteBuffer header, Duration timeout, List<String> failures,
                           CompletableFuture<NodeConnection.Reply> result) {
        if (next == order.size()) {
            result.completeExceptionally(unreachable(failures));
            return;
        }
        String id = order.get(next);
        connections.get(id).call(type, header.duplicate(), List.of(), timeout).whenComplete((reply, error) -> {
            if (error == null) {
                preferredNode = id;
                result.complete(reply);
                return;
            }
            Throwable cause = Failures.unwrap(error);
            if (cause instanceof NodeConnection.RemoteError remote) {
                result.completeExceptionally(translate(remote));
                return;
            }
            failures.add(Failures.describe(connections.get(id), cause));
            try {
                background.execute(() -> askInTurn(connections, order, next + 1, type, header, timeout, failures, result));
            } catch (RejectedExecutionException closed) {
                result.completeExceptionally(new CairnException("the client is closed"));
            }
        });
    }

    /** Maps a node's ERROR answer to the exception a caller handles. */
    static CairnException translate(NodeConnection.RemoteError e) {
        ErrorCode code = e.code();
        return switch (code) {
            case NOT_FOUND -> new CairnException.ImageNotFound(e.getMessage());
            case EXISTS -> new CairnException.ImageExists(e.getMessage());
            case INVALID_NAME -> new CairnException.InvalidName(e.getMessage());
            case UNAVAILABLE -> new CairnException.QuorumUnavailable(e.getMessage());
            case SESSION_EXPIRED -> new CairnException.SessionExpired(e.getMessage());
            case UNAUTHENTICATED -> new CairnException.NotAuthenticated(e.getMessage());
            case FORBIDDEN -> new CairnException.NotAllowed(e.getMessage());
            case QUOTA_EXCEEDED -> new CairnException.QuotaExceeded(e.getMessage());
            case IN_USE -> new CairnException.ImageInUse(e.getMessage());
            case CORRUPT_CHUNK -> new CairnException.CorruptData("node " + e.nodeId() + ": " + e.getMessage());
            default -> new CairnException("node " + e.nodeId() + " failed: " + e.getMessage());
        };
    }
}
