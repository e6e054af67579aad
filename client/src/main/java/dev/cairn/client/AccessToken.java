package dev.cairn.client;

import dev.cairn.protocol.AuthMessages;
import java.time.Instant;
import java.util.List;

/**
 * An access token as the cluster records it (never its secret): its id, tenant, role
 * ({@code read}, {@code write} or {@code admin}), the name prefixes it may touch (none: every
 * name) and when it was created.
 */
public record AccessToken(String id, String tenant, String role, List<String> prefixes, Instant created) {

    public AccessToken {
        prefixes = List.copyOf(prefixes);
    }

    static AccessToken of(AuthMessages.TokenInfo t) {
        return new AccessToken(t.id(), t.tenant(), t.role().label(), t.prefixes(), Instant.ofEpochMilli(t.createdMillis()));
    }
}
