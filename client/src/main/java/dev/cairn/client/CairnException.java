package dev.cairn.client;

/**
 * Why a client call failed. The message is one line that says what happened and what to do;
 * subclasses name the kinds a caller may want to handle.
 */
public class CairnException extends RuntimeException {
    public CairnException(String message) {
        super(message);
    }

    public CairnException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The node refused the connection's token: none, unknown or revoked. Exit 4 on the CLI. */
    public static final class NotAuthenticated extends CairnException {
        public NotAuthenticated(String message) {
            super(message);
        }
    }

    /** The token is valid, but its role or its name prefixes do not allow the request. Exit 4 on the CLI. */
    public static final class NotAllowed extends CairnException {
        public NotAllowed(String message) {
            super(message);
        }
    }

    /**
     * A commit would take a name prefix over its byte quota; nothing was committed. The message
     * names the prefix, what it holds, its maximum and the image's size. Exit 4 on the CLI.
     */
    public static final class QuotaExceeded extends CairnException {
        public QuotaExceeded(String message) {
            super(message);
        }
    }

    /** The image does not exist. */
    public static final class ImageNotFound extends CairnException {
        public ImageNotFound(String message) {
            super(message);
        }
    }

    /** An image of that name exists already (images are immutable). */
    public static final class ImageExists extends CairnException {
        public ImageExists(String message) {
            super(message);
        }
    }

    /** The image is the parent of another image (its lineage), so it stays while that image does. */
    public static final class ImageInUse extends CairnException {
        public ImageInUse(String message) {
            super(message);
        }
    }

    /** The image name breaks the naming rules. */
    public static final class InvalidName extends CairnException {
        public InvalidName(String message) {
            super(message);
        }
    }

    /** No node of the cluster could be reached. */
    public static final class ClusterUnreachable extends CairnException {
        public ClusterUnreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The upload session of a put closed or ran out of lease before its commit, so garbage
     * collection may have swept chunks it uploaded: nothing was committed; put the image again.
     */
    public static final class SessionExpired extends CairnException {
        public SessionExpired(String message) {
            super(message);
        }
    }

    /** A write or read quorum, or the Raft majority, cannot be met now. */
    public static final class QuorumUnavailable extends CairnException {
        public QuorumUnavailable(String message) {
            super(message);
        }

        public QuorumUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The image is a directory image and was asked for as one stream; ask for a directory or a tar. */
    public static final class NotAStream extends CairnException {
        public NotAStream(String message) {
            super(message);
        }
    }

    /** Stored data failed verification on every replica, or a node reported corruption. */
    public static final class CorruptData extends CairnException {
        public CorruptData(String message) {
            super(message);
        }
    }

    /** The local source or destination cannot be used (not empty, not readable, ...). */
    public static final class LocalIo extends CairnException {
        public LocalIo(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
