package dev.cairn.client;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * How a token is made and presented: {@code ID.SECRET}, the id 16 hex digits, the secret 32
 * random bytes in URL-safe base64. The creating client draws both and sends the cluster only the
 * SHA-256 of the secret, so the secret exists only where the operator keeps it.
 */
public final class TokenSecrets {

    private static final SecureRandom RANDOM = new SecureRandom();

    private TokenSecrets() {}

    /** A new token's id and secret, as one presentable string. */
    static String newToken() {
        byte[] id = new byte[8];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(id);
        RANDOM.nextBytes(secret);
        return HexFormat.of().formatHex(id) + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    /** The id part of a presented token, or null when it has no id part. */
    public static String idOf(String token) {
        int dot = token.indexOf('.');
        return dot <= 0 ? null : token.substring(0, dot);
    }

    /** SHA-256 of the secret part (everything after the first dot) of a presented token. */
    public static byte[] secretHash(String token) {
        int dot = token.indexOf('.');
        try {
            return MessageDigest.getInstance("SHA-256").digest(
                    token.substring(dot + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
