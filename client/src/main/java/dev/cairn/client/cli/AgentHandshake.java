package dev.cairn.client.cli;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The agent's half of the mutual challenge by which it and its caller each prove they hold the
 * state file's token without sending it: HMAC-SHA256 under the token's 32 bytes of {@code
 * ROLE:CALLER_NONCE:AGENT_NONCE}, where ROLE is {@code agent} or {@code caller} and each nonce is 32
 * fresh random bytes in hex. {@code bin/cairn} computes the same HMAC with bash and {@code sha256sum}.
 *
 * <p>Why this suffices: a proof binds both nonces, so neither side can replay one it saw before
 * (the other side's nonce is new); the role label keeps the agent's proof from serving as a
 * caller's; and the agent proves first, so a process that holds the agent's port without the
 * token learns nothing but a nonce before the caller hangs up.
 */
final class AgentHandshake {

    /** The first field of a request of this protocol: after its arguments come the caller's PATH and CAIRN_* variables. */
    static final String TAG = "cairn-agent-3";
    /** The first field of the protocol before it carried the caller's environment; still served, with the agent's own. */
    static final String PREVIOUS_TAG = "cairn-agent-2";
    /** The first field of the protocol before the handshake, whose second field was the token in clear. */
    static final String OLD_TAG = "cairn-agent-1";
    /** A nonce: 32 random bytes in lowercase hex. */
    static final int NONCE_HEX_CHARS = 64;

    private final byte[] key;
    private final SecureRandom random;

    /** {@code tokenHex}: the token as the state file holds it, 64 hex digits. */
    AgentHandshake(String tokenHex, SecureRandom random) {
        this.key = HexFormat.of().parseHex(tokenHex);
        this.random = random;
    }

    String newNonce() {
        byte[] nonce = new byte[NONCE_HEX_CHARS / 2];
        random.nextBytes(nonce);
        return HexFormat.of().formatHex(nonce);
    }

    static boolean isNonce(String s) {
        return s.length() == NONCE_HEX_CHARS && s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    /** What the agent sends to prove it holds the token. */
    String agentProof(String callerNonce, String agentNonce) {
        return proof("agent", callerNonce, agentNonce);
    }

    /** Whether {@code given} is the caller's proof for these nonces; compared in constant time. */
    boolean isCallerProof(String given, String callerNonce, String agentNonce) {
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.US_ASCII),
                proof("caller", callerNonce, agentNonce).getBytes(StandardCharsets.US_ASCII));
    }

    private String proof(String role, String callerNonce, String agentNonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] message = (role + ":" + callerNonce + ":" + agentNonce).getBytes(StandardCharsets.US_ASCII);
            return HexFormat.of().formatHex(mac.doFinal(message));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is missing from this JVM", e); // every JDK has it
        }
    }
}
