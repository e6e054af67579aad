package dev.cairn.server.meta;

import java.util.Objects;

/** A catalog operation that did not succeed; {@link #code()} says why in a form callers can branch on. */
public final class CatalogException extends RuntimeException {

    /** Why an operation failed. */
    public enum Code {
        /** The image does not exist. */
        NOT_FOUND,
        /** The image name is taken; images are immutable. */
        EXISTS,
        /** No Raft leader with a quorum could be reached in time; the outcome of a write is unknown. */
        UNAVAILABLE,
        /** The request was malformed or refused by the state machine. */
        INVALID,
        /** A precondition that time resolves does not hold yet (GC_MAY_SWEEP while old sessions are leased): retry later. */
        BUSY,
        /** A commit named an upload session that is closed or whose lease ran out: put the image again. */
        SESSION_EXPIRED,
        /** A commit would take a name prefix over its byte quota; nothing was committed. */
        QUOTA_EXCEEDED,
        /** A delete of an image that another image names as its parent; nothing was deleted. */
        IN_USE
    }

    private final Code code;

    public CatalogException(Code code, String message) {
        this(code, message, null);
    }

    public CatalogException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public Code code() {
        return code;
    }
}
