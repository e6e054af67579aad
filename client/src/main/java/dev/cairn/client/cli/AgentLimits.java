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
 */
record AgentLimits(Duration requestTimeout, int maxWaitingConnections) {

    static final AgentLimits DEFAULT = new AgentLimits(Duration.ofSeconds(10), 64);

    AgentLimits {
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("the agent's request timeout must be positive, not " + requestTimeout);
        }
        if (maxWaitingConnections < 1) {
            throw new IllegalArgumentException("the agent must read at least 1 connection at once, not " + maxWaitingConnections);
        }
    }
}
