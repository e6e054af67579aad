package dev.cairn.protocol;

/** Why a request failed, as carried in an ERROR frame. */
public enum ErrorCode {
    /** The image does not exist. */
    NOT_FOUND(1),
    /** An image of that name exists already; images are immutable. */
    EXISTS(2),
    /** The image name breaks the naming rules. */
    INVALID_NAME(3),
    /** The request is malformed. */
    BAD_REQUEST(4),
    /** A chunk's bytes do not match its id. */
    CORRUPT_CHUNK(5),
    /** A quorum (Raft or replica) cannot be reached now. */
    UNAVAILABLE(6),
    /** The node cannot store (disk full, failed fsync). */
    STORAGE_FAILED(7),
    /** A bug or an unexpected failure on the node. */
    INTERNAL(8),
    /** The upload session a commit names is not open (closed, or its lease ran out): put the image again. */
    SESSION_EXPIRED(9),
    /** The connection carries no valid token (none, unknown, revoked): authenticate first. */
    UNAUTHENTICATED(10),
    /** The token is valid but its role or its prefixes do not allow this request. */
    FORBIDDEN(11),
    /** A commit would take a name prefix over its byte quota: nothing was committed. */
    QUOTA_EXCEEDED(12),
    /** A delete of an image that another image names as its parent: nothing was deleted. */
    IN_USE(13);

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static ErrorCode fromCode(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return INTERNAL;
    }
}
