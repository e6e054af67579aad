package dev.cairn.protocol;

/**
 * The kinds of request a frame carries. A response carries the type of its request with the
 * {@link Frame#RESPONSE_FLAG} set, or {@link #ERROR}.
 */
public enum MessageType {
    /** Which nodes form the cluster and its quorums. */
    CLUSTER_INFO(1),
    /** Which of these chunk ids does the node hold durably. */
    HAS_CHUNKS(2),
    /** Store these chunks; the reply comes after the fdatasync that covers them. */
    PUT_CHUNKS(3),
    /** Return these chunks. */
    GET_CHUNKS(4),
    /** Commit an image root to the Raft catalog. */
    COMMIT_IMAGE(5),
    /** Read one catalog entry. */
    GET_IMAGE(6),
    /** List catalog entries by name prefix. */
    LIST_IMAGES(7),
    /** Delete a catalog entry. */
    DELETE_IMAGE(8),
    /** The node's Raft role and indexes and its chunk store's size. */
    NODE_STATUS(9),
    /** Report the node's last replication census, or run a repair pass now and report it. */
    REPAIR(10),
    /** Re-read and re-hash every local chunk now, repairing bad ones from peers. */
    SCRUB(11),
    /** Open an upload session in the catalog (its lease is counted in Raft log time). */
    OPEN_SESSION(12),
    /** Close an upload session: its commit is done or abandoned. */
    CLOSE_SESSION(13),
    /** GC: persist "marking epoch = E" on this node before answering. */
    GC_ARM(14),
    /** GC: mark these chunk ids live in epoch E on this node. */
    GC_MARK(15),
    /** GC: tombstone this node's chunks whose mark is older than E. */
    GC_SWEEP(16),
    /** Run one GC epoch with this node as the coordinator; answers with what each node freed. */
    GC_RUN(17),
    /** The progress lines of a GC run this node coordinates, while it runs. */
    GC_STATUS(18),
    /** The membership recorded in the catalog and the Raft configuration, read through the leader. */
    MEMBERS(19),
    /** Add a node: change the Raft configuration, then record it in the catalog as active. */
    ADD_NODE(20),
    /** Remove a node: mark it leaving, or (once its chunks are re-replicated) drop it from Raft and the catalog. */
    REMOVE_NODE(21),
    /** Extend an open upload session's lease (refused once it has run out: it is never re-created). */
    RENEW_SESSION(22),
    /** Store these packs; the reply comes after the fdatasync that covers them. */
    PUT_PACKS(23),
    /** Record an access token in the catalog: id, tenant, role, prefixes and the SHA-256 of its secret. */
    TOKEN_CREATE(24),
    /** The tokens recorded in the catalog (never their secrets). */
    TOKEN_LIST(25),
    /** Revoke a token: every node refuses it once its catalog replica has applied the revocation. */
    TOKEN_REVOKE(26),
    /** Authenticate this connection: every later request on it runs as the token's principal. */
    AUTH(27),
    /** Set the byte quota of a name prefix (a tenant): commits that would take it over the quota are refused. */
    QUOTA_SET(28),
    /** The byte quotas recorded in the catalog, with the bytes each prefix holds now. */
    QUOTA_LIST(29),
    /** Remove the byte quota of a name prefix. */
    QUOTA_REMOVE(30),
    /** A failed request: an error code and a message. Only in responses. */
    ERROR(127);

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static MessageType fromCode(int code) {
        MessageType t = known(code);
        if (t == null) {
            throw new ProtocolException("unknown message type " + code);
        }
        return t;
    }

    /** The type with {@code code}, or null when this build has none (a newer peer's type). */
    public static MessageType known(int code) {
        for (MessageType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
