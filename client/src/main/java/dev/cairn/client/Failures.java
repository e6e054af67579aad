package dev.cairn.client;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Failures told in the user's words: which node, what went wrong on the way to it, never a Java
 * class or a Netty internal. The exception itself stays the cause, for {@code --verbose}.
 */
final class Failures {

    private Failures() {}

    /**
     * A node that could not be reached, or whose call failed: {@code cannot reach node n2 at
     * 127.0.0.1:7401 (connection refused)}. An ERROR answer is the node's own message.
     */
    static String describe(NodeConnection node, Throwable error) {
        return describe(node.nodeId(), node.endpoint(), error);
    }

    static String describe(String nodeId, String endpoint, Throwable error) {
        Throwable t = unwrap(error);
        if (t instanceof NodeConnection.RemoteError remote) {
            return remote.getMessage();
        }
        if (t instanceof NodeUnreachable u) {
            return u.getMessage();
        }
        if (t instanceof CairnException c) {
            return c.getMessage();
        }
        return NodeUnreachable.message(nodeId, endpoint, cause(t));
    }

    /**
     * What went wrong, in a few plain words: "connection refused", "no answer within 30 s",
     * "connection closed"... For a failure of no known kind, its own message.
     */
    static String cause(Throwable error) {
        Throwable t = unwrap(error);
        if (t instanceof NodeUnreachable u) {
            return u.reason();
        }
        if (t instanceof NodeConnection.RemoteError || t instanceof CairnException) {
            return t.getMessage();
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String plain = plain(c);
            if (plain != null) {
                return plain;
            }
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? "an unexpected error (run with --verbose for details)" : m;
    }

    /** The plain words for a network failure of a known kind, else null. */
    private static String plain(Throwable t) {
        String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(java.util.Locale.ROOT);
        if (t instanceof ConnectException) {
            if (m.contains("refused")) {
                return "connection refused";
            }
            return m.contains("timed out") || m.contains("timeout") ? "connection timed out" : "cannot connect";
        }
        if (t instanceof UnknownHostException) {
            return "unknown host";
        }
        if (t instanceof NoRouteToHostException) {
            return "no route to host";
        }
        if (t instanceof ClosedChannelException) {
            return "connection closed";
        }
        if (t instanceof TimeoutException) {
            return "no answer in time";
        }
        if (t instanceof SocketException || (t instanceof IOException && m.contains("connection reset"))) {
            return m.contains("reset") ? "connection reset" : m.contains("broken pipe") ? "connection closed" : null;
        }
        return null;
    }

    /**
     * What went wrong with a local file, in plain words and with the file: "permission denied
     * (/dest/a)" where the exception's own message would be the bare path.
     */
    static String local(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            String what = f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : f instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                    : f instanceof java.nio.file.NotDirectoryException ? "not a directory"
                    : f.getReason() != null ? f.getReason() : null;
            if (what != null) {
                return what + (f.getFile() == null ? "" : " (" + f.getFile() + ")");
            }
        }
        return e.getMessage() == null || e.getMessage().isBlank() ? "an I/O error" : e.getMessage();
    }

    /** The failure inside the wrappers a future or an executor puts around it. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** A node this client could not reach or lost on the way: which node, where, and why in plain words. */
    static final class NodeUnreachable extends IOException {
        private final String reason;

        NodeUnreachable(String nodeId, String endpoint, String reason, Throwable cause) {
            super(message(nodeId, endpoint, reason), cause);
            this.reason = reason;
        }

        String reason() {
            return reason;
        }

        static String message(String nodeId, String endpoint, String reason) {
            String who = "?".equals(nodeId) ? "the node at " + endpoint : "node " + nodeId + " at " + endpoint;
            return "cannot reach " + who + " (" + reason + ")";
        }
    }
}
