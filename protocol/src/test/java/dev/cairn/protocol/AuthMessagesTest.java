package dev.cairn.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AuthMessagesTest {

    @Test
    void aPrefixWithoutItsSlashIsRefusedBecauseItWouldCoverAnotherTenantsNames() {
        // Why the rule exists: matching is by the start of the name.
        AuthMessages.TokenInfo loose = new AuthMessages.TokenInfo("0123456789abcdef", "team-a", AuthMessages.Role.READ,
                List.of("team-a"), 0);
        assertTrue(loose.covers("team-ab/img"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AuthMessages.checkPrefix("team-a"));
        assertTrue(e.getMessage().contains("must end with /"), e.getMessage());
    }

    @Test
    void aPrefixEndingInASlashCoversOnlyItsOwnNames() {
        assertEquals("team-a/", AuthMessages.checkPrefix("team-a/"));
        AuthMessages.TokenInfo token = new AuthMessages.TokenInfo("0123456789abcdef", "team-a", AuthMessages.Role.READ,
                List.of("team-a/"), 0);
        assertTrue(token.covers("team-a/img"));
        assertTrue(!token.covers("team-ab/img"));
        assertThrows(IllegalArgumentException.class, () -> AuthMessages.checkPrefix(""));
        assertThrows(IllegalArgumentException.class, () -> AuthMessages.checkPrefix("x/".repeat(200)));
    }
}
