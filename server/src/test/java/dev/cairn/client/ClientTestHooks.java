package dev.cairn.client;

import java.util.UUID;
import java.util.function.Consumer;

/**
 * The client's test seams, for the integration tests in other packages: it lives in the client's
 * package (in test sources only), so the seams stay out of the client's public API.
 */
public final class ClientTestHooks {

    private ClientTestHooks() {}

    /** Hooks around the renewals of each put's upload session; see the client's {@code SessionRenewals}. */
    public interface Renewals extends SessionRenewals {}

    /**
     * Runs {@code hook} after each later put's chunks are durable and before its commit is sent,
     * with the put's session id, so a test can order a GC epoch against the put.
     */
    public static void beforeCommit(CairnClient client, Consumer<UUID> hook) {
        client.beforeCommit(hook);
    }

    /** Installs {@code hooks} around the session renewals of {@code client}'s later puts. */
    public static void sessionRenewals(CairnClient client, Renewals hooks) {
        client.sessionRenewals(hooks);
    }
}
