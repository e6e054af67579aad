package dev.cairn.client.cli;

import java.time.Duration;

/**
 * What bounds the agent's work for connections that have not yet proved they come from its owner:
 * any local user can open them.
 *
 * @param requestTimeout how long a connection may take from its accept to the last field of its
 *     request, the handshake included; then it is closed. 10 s by default: {@code bin/cairn} sends
 *     everything within milliseconds, and a caller that trickles a byte now and then must not hold
 *     a place for longer than that
 * @param maxWaitingConnections connections read at once before their request is complete; one more
 *     closes the one that has waited longest. 64 by default: far more than the callers a host starts
 *     at once, few enough that the threads reading them cost little
 * @param maxCriuCommands {@code cairn criu} commands run at once, on turns of their own apart from
 *     the other commands' 8: a {@code lazy-pages} serves for as long as its restore runs and must not
 *     hold a put's turn. One more is refused at once, not queued: a queued dump would keep its
 *     process waiting to be frozen. 4 by default: the lazy restores a host starts at once plus a
 *     dump ({@code lazy-pages --restores N} serves up to 16 restores on one turn); at most
 *     {@value #MAX_CRIU_COMMANDS}, as each holds a thread, a listening port and, for a dump, a frozen
 *     process
 */
record AgentLimits(Duration requestTimeout, int maxWaitingConnections, int maxCriuCommands) {

    static final int DEFAULT_CRIU_COMMANDS = 4;
    static final int MAX_CRIU_COMMANDS = 64;
    static final AgentLimits DEFAULT = new AgentLimits(Duration.ofSeconds(10), 64, DEFAULT_CRIU_COMMANDS);

    /** The limits with the default number of criu commands. */
    AgentLimits(Duration requestTimeout, int maxWaitingConnections) {
        this(requestTimeout, maxWaitingConnections, DEFAULT_CRIU_COMMANDS);
    }

    AgentLimits {
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("the agent's request timeout must be positive, not " + requestTimeout);
        }
        if (maxCriuCommands < 1 || maxCriuCommands > MAX_CRIU_COMMANDS) {
            throw new IllegalArgumentException("the agent runs 1 to " + MAX_CRIU_COMMANDS + " criu commands at once, not "
                    + maxCriuCommands);
        }
        if (maxWaitingConnections < 1) {
            throw new IllegalArgumentException("the agent must read at least 1 connection at once, not " + maxWaitingConnections);
        }
    }
}
