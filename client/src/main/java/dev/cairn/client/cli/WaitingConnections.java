package dev.cairn.client.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The agent's connections that have not yet completed their handshake and request: any local
 * user can open them, so each is closed at its deadline, and when {@link AgentLimits#maxWaitingConnections}
 * wait already, a new one closes the one that has waited longest.
 *
 * <p>Why the oldest goes rather than the new one: refusing new connections at the cap would let
 * another user starve the agent by holding that many silent connections and renewing each once per
 * deadline. Closing the oldest gives every new caller its turn; to keep the owner out, an attacker
 * would have to open connections faster than {@code bin/cairn} completes its handshake (milliseconds),
 * without a pause, which is a flood a host notices, not a quiet hold.
 */
final class WaitingConnections {

    private final AgentLimits limits;
    private final ScheduledExecutorService deadlines;
    /** In the order they were accepted, each with its deadline. */
    private final Map<Socket, ScheduledFuture<?>> waiting = new LinkedHashMap<>();
    /** The agent's log: a line when it starts closing connections to make room, and one when none wait any more. */
    private final PrintStream log;
    private boolean crowded;

    WaitingConnections(AgentLimits limits, ScheduledExecutorService deadlines, PrintStream log) {
        this.limits = limits;
        this.deadlines = deadlines;
        this.log = log;
    }

    /** Takes a just-accepted connection in, closing the longest-waiting one if the limit is reached. */
    void admit(Socket socket) {
        Socket oldest = null;
        synchronized (this) {
            if (waiting.size() >= limits.maxWaitingConnections()) {
                Iterator<Map.Entry<Socket, ScheduledFuture<?>>> first = waiting.entrySet().iterator();
                Map.Entry<Socket, ScheduledFuture<?>> entry = first.next();
                entry.getValue().cancel(false);
                oldest = entry.getKey();
                first.remove();
                if (!crowded) {
                    crowded = true;
                    log.println("cairn agent: " + limits.maxWaitingConnections() + " connections are waiting for their "
                            + "request; closing the oldest as new ones arrive (is another local user flooding the port?)");
                }
            }
            waiting.put(socket, deadlines.schedule(() -> drop(socket), limits.requestTimeout().toNanos(), TimeUnit.NANOSECONDS));
        }
        if (oldest != null) {
            closeQuietly(oldest);
        }
    }

    /**
     * The connection's request is complete (or failed): it no longer counts. False when it was
     * closed already, at its deadline or to make room, so that nothing must be run for it.
     */
    boolean complete(Socket socket) {
        ScheduledFuture<?> deadline;
        synchronized (this) {
            deadline = waiting.remove(socket);
            noteIfCalm();
        }
        if (deadline == null) {
            return false;
        }
        deadline.cancel(false);
        return true;
    }

    private void drop(Socket socket) {
        boolean was;
        synchronized (this) {
            was = waiting.remove(socket) != null;
            noteIfCalm();
        }
        if (was) {
            closeQuietly(socket); // its reader's next read fails, and it gives up
        }
    }

    private void noteIfCalm() {
        if (crowded && waiting.isEmpty()) {
            crowded = false;
            log.println("cairn agent: no connection is waiting for its request any more");
        }
    }

    /** Closes every waiting connection: the agent is stopping. */
    void closeAll() {
        Map<Socket, ScheduledFuture<?>> all;
        synchronized (this) {
            all = new LinkedHashMap<>(waiting);
            waiting.clear();
        }
        all.forEach((socket, deadline) -> {
            deadline.cancel(false);
            closeQuietly(socket);
        });
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closed either way
        }
    }
}
