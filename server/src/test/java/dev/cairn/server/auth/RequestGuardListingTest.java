package dev.cairn.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.protocol.AuthMessages.Role;
import dev.cairn.protocol.AuthMessages.TokenInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which prefixes a listing runs over for a principal: {@link RequestGuard#listPrefixes}. */
class RequestGuardListingTest {

    private static Principal token(String... prefixes) {
        return Principal.of(new TokenInfo("0123456789abcdef", "team", Role.READ, List.of(prefixes), 0), new byte[32]);
    }

    @Test
    void aListingWiderThanSeveralTokenPrefixesRunsOverEachOfThemInNameOrder() {
        Principal p = token("team-b/", "team-a/", "other/");
        assertEquals(List.of("other/", "team-a/", "team-b/"), RequestGuard.listPrefixes(p, ""));
        assertEquals(List.of("team-a/", "team-b/"), RequestGuard.listPrefixes(p, "team"));
        assertEquals(List.of("team-a/"), RequestGuard.listPrefixes(p, "team-a"));
    }

    @Test
    void aPrefixWithinOneOfTheTokensIsListedAsAsked() {
        Principal p = token("a/", "b/");
        assertEquals(List.of("a/"), RequestGuard.listPrefixes(p, "a/"));
        assertEquals(List.of("b/x-"), RequestGuard.listPrefixes(p, "b/x-"));
    }

    @Test
    void aTokenPrefixInsideAnotherIsNotListedTwice() {
        assertEquals(List.of("a/", "ab/"), RequestGuard.listPrefixes(token("a/b/", "ab/", "a/", "a/b/c/"), ""));
    }

    @Test
    void aPrefixOutsideEveryTokenPrefixIsRefused() {
        AuthException e = assertThrows(AuthException.class, () -> RequestGuard.listPrefixes(token("a/", "b/"), "c/"));
        assertTrue(e.getMessage().contains("may list only under a/, b/"), e.getMessage());
        assertThrows(AuthException.class, () -> RequestGuard.listPrefixes(token("a/", "b/"), "ab"));
    }

    @Test
    void aPrincipalWithoutPrefixesListsWhatItAsks() {
        assertEquals(List.of(""), RequestGuard.listPrefixes(Principal.OPEN, ""));
        assertEquals(List.of("x/"), RequestGuard.listPrefixes(token(), "x/"));
    }
}
