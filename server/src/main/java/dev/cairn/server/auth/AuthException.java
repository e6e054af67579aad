package dev.cairn.server.auth;

import dev.cairn.protocol.ErrorCode;

/** A request refused for who sent it: {@link ErrorCode#UNAUTHENTICATED} or {@link ErrorCode#FORBIDDEN}. */
public final class AuthException extends RuntimeException {

    private final ErrorCode code;

    public AuthException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    /** UNAUTHENTICATED (HTTP 401) or FORBIDDEN (HTTP 403). */
    public ErrorCode code() {
        return code;
    }

    static AuthException unauthenticated(String message) {
        return new AuthException(ErrorCode.UNAUTHENTICATED, message);
    }

    static AuthException forbidden(String message) {
        return new AuthException(ErrorCode.FORBIDDEN, message);
    }
}
