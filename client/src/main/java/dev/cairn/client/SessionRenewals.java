package dev.cairn.client;

import java.util.UUID;

/**
 * A test seam around the renewals of each put's upload session (docs/gc.md), so a test can count
 * them, or fail them to play a client cut off from the catalog. Package-private: tests reach it
 * from package {@code dev.cairn.client}.
 */
interface SessionRenewals {
    SessionRenewals NONE = new SessionRenewals() {};

    /**
     * Runs on the client's background thread before a renewal is sent; it must not block.
     * Throwing fails this renewal as a lost call would (the next tick tries again).
     */
    default void beforeRenewal(UUID session) {}

    /**
     * Runs when a renewal has its outcome, on a client thread that must not block:
     * {@code failure} is null when the lease was extended, a {@link CairnException.SessionExpired}
     * when the catalog refused it (the put then fails), anything else for a renewal that was lost.
     */
    default void afterRenewal(UUID session, CairnException failure) {}
}
