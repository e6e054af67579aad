package dev.cairn.server.auth;

import dev.cairn.protocol.AuthMessages.Role;
import dev.cairn.protocol.MessageType;

/** What a request type needs of its principal; one line per type, and a new type must be placed. */
enum Access {
    /** Anyone: only AUTH, which is how a connection gets a principal. */
    ANYONE(null),
    READ(Role.READ),
    WRITE(Role.WRITE),
    ADMIN(Role.ADMIN),
    /** Nodes only, whatever a client token's role: GC arm, mark and sweep decide what a node deletes. */
    NODE(null);

    /** The least token role; null for ANYONE and NODE. */
    final Role role;

    Access(Role role) {
        this.role = role;
    }

    static Access of(MessageType type) {
        return switch (type) {
            case AUTH -> ANYONE;
            case CLUSTER_INFO, HAS_CHUNKS, GET_CHUNKS, GET_IMAGE, LIST_IMAGES -> READ;
            case PUT_CHUNKS, PUT_PACKS, COMMIT_IMAGE, DELETE_IMAGE, OPEN_SESSION, CLOSE_SESSION, RENEW_SESSION -> WRITE;
            case NODE_STATUS, REPAIR, SCRUB, GC_RUN, GC_STATUS, MEMBERS, ADD_NODE, REMOVE_NODE, TOKEN_CREATE, TOKEN_LIST,
                 TOKEN_REVOKE, QUOTA_SET, QUOTA_LIST, QUOTA_REMOVE -> ADMIN;
            case GC_ARM, GC_MARK, GC_SWEEP -> NODE;
            // Not a request: the frame handler answers it as such; no principal may send it.
            case ERROR -> NODE;
        };
    }
}
