package dev.cairn.server.meta;

import static dev.cairn.server.meta.CatalogBytes.MAX_STRING_BYTES;
import static dev.cairn.server.meta.CatalogBytes.checkFullyRead;
import static dev.cairn.server.meta.CatalogBytes.copyOut;
import static dev.cairn.server.meta.CatalogBytes.getBytes;
import static dev.cairn.server.meta.CatalogBytes.getString;
import static dev.cairn.server.meta.CatalogBytes.getUuid;
import static dev.cairn.server.meta.CatalogBytes.putBytes;
import static dev.cairn.server.meta.CatalogBytes.putString;
import static dev.cairn.server.meta.CatalogBytes.putUuid;
import static dev.cairn.server.meta.CatalogMemberMessages.MAX_MEMBERS;
import static dev.cairn.server.meta.CatalogMemberMessages.MAX_MEMBER_BYTES;
import static dev.cairn.server.meta.CatalogMemberMessages.getMember;
import static dev.cairn.server.meta.CatalogMemberMessages.putMember;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.server.meta.CatalogGcMessages.BeginGcEpoch;
import dev.cairn.server.meta.CatalogGcMessages.GcMaySweep;
import dev.cairn.server.meta.CatalogImageMessages.CommitImage;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import dev.cairn.server.meta.CatalogImageMessages.GetImage;
import dev.cairn.server.meta.CatalogImageMessages.ListImages;
import dev.cairn.server.meta.CatalogMemberMessages.AddMember;
import dev.cairn.server.meta.CatalogMemberMessages.MarkLeaving;
import dev.cairn.server.meta.CatalogMemberMessages.RemoveMember;
import dev.cairn.server.meta.CatalogMemberMessages.SeedMembers;
import dev.cairn.server.meta.CatalogSessionMessages.CloseSession;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import dev.cairn.server.meta.CatalogSessionMessages.OpenSession;
import dev.cairn.server.meta.CatalogSessionMessages.RenewSession;
import dev.cairn.server.meta.CatalogTokenMessages.CreateToken;
import dev.cairn.server.meta.CatalogTokenMessages.RevokeToken;
import dev.cairn.server.meta.CatalogQuotaMessages.RemoveQuota;
import dev.cairn.server.meta.CatalogQuotaMessages.SetQuota;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * The catalog requests and replies, and their byte format (Raft log entries and queries).
 * The request types of each area are in {@link CatalogImageMessages}, {@link CatalogSessionMessages},
 * {@link CatalogGcMessages}, {@link CatalogMemberMessages}, {@link CatalogTokenMessages} and
 * {@link CatalogQuotaMessages}; their bytes are written and read here, those of replies and
 * stored image values in {@link CatalogReplyCodec}.
 *
 * <p>Every message starts with a format version byte, so that a newer server can replay an
 * older log, and an older server refuses, loudly, an entry it cannot understand instead of
 * guessing. The layout is documented byte by byte in {@code docs/metadata.md}; change both
 * together, and only by adding a new version.
 */
final class CatalogMessages {

    /**
     * The newest format this build reads and writes; it reads every older one too. A message is
     * written with the version that introduced its type ({@link Type#sinceVersion}), so entries of
     * the old types stay readable by older servers during a rolling upgrade.
     */
    static final int FORMAT_VERSION = 9;

    /** Upper bound of a {@code LIST_IMAGES} limit, so that a reply stays small. */
    static final int MAX_LIST_LIMIT = 1000;

    static final int MAX_ROOT_BYTES = 0xffff;

    private CatalogMessages() {}

    /** The kind of a request; the byte after the version. Codes are never reused. */
    enum Type {
        COMMIT_IMAGE(1, false, 1),
        DELETE_IMAGE(2, false, 1),
        GET_IMAGE(3, true, 1),
        LIST_IMAGES(4, true, 1),
        /** A write tagged with the caller's (client id, call id), applied at most once. */
        CALL(5, false, 2),
        OPEN_SESSION(6, false, 2),
        CLOSE_SESSION(7, false, 2),
        BEGIN_GC_EPOCH(8, false, 2),
        GC_MAY_SWEEP(9, false, 2),
        /** A commit that names its upload session; refused unless the session is open and leased. */
        COMMIT_IN_SESSION(10, false, 3),
        /** The first membership, from the config's node list; applied only while none is recorded. */
        SEED_MEMBERS(11, false, 4),
        /** A node joins as an active placement target (after the Raft configuration includes it). */
        ADD_MEMBER(12, false, 4),
        /** A node stops being a placement target; refused when too few active nodes would remain. */
        MARK_LEAVING(13, false, 4),
        /** A leaving node is forgotten (after the Raft configuration dropped it). */
        REMOVE_MEMBER(14, false, 4),
        /** Extends the lease of an open, still leased upload session; never re-creates one. */
        RENEW_SESSION(15, false, 5),
        /**
         * As COMMIT_IN_SESSION, and a commit that succeeds also closes the session: a put's last
         * catalog entry, one Raft round trip instead of a commit and a close.
         */
        COMMIT_CLOSING_SESSION(16, false, 6),
        /** Records an access token (the SHA-256 of its secret, never the secret). */
        CREATE_TOKEN(17, false, 7),
        /** Forgets an access token: refused by every node once applied. */
        REVOKE_TOKEN(18, false, 7),
        /** Sets a name prefix's byte quota; a new one counts the images already under the prefix. */
        SET_QUOTA(19, false, 8),
        /** Removes a name prefix's byte quota. */
        REMOVE_QUOTA(20, false, 8),
        /**
         * A commit (types 1, 10 or 16) of an image that names its parent image (CRIU's incremental
         * dumps): the parent's name, then the commit message. In memory it is the commit itself,
         * with its {@code parent} set; only the bytes wrap it, so older entries stay as they were.
         */
        WITH_PARENT(21, false, 9);

        final int code;
        final boolean readOnly;
        /** The format version that introduced this type; messages of this type carry it. */
        final int sinceVersion;

        Type(int code, boolean readOnly, int sinceVersion) {
            this.code = code;
            this.readOnly = readOnly;
            this.sinceVersion = sinceVersion;
        }

        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new MalformedMessageException("unknown catalog message type " + code);
        }
    }

    /** A catalog request: a write that goes through the Raft log, or a read-only query. */
    sealed interface Request permits CommitImage, DeleteImage, GetImage, ListImages, Call, CloseSession, Stamped,
            SeedMembers, AddMember, MarkLeaving, RemoveMember, RevokeToken, SetQuota, RemoveQuota {
        Type type();
    }

    /**
     * A write whose effect depends on time. The leader stamps its clock into the entry
     * ({@code leaderMillis}) before the entry is logged, so apply reads time from the entry,
     * never from the local clock, and every replica computes the same result.
     */
    sealed interface Stamped extends Request permits OpenSession, RenewSession, BeginGcEpoch, GcMaySweep,
            CommitInSession, CreateToken {
        long leaderMillis();

        Stamped stamped(long leaderMillis);
    }

    /**
     * A write on behalf of a Cairn client: {@code (clientId, callId)} names the call, and a retry
     * of it carries the same pair. The state machine records the reply of the first apply and
     * returns it for every later apply of the same pair, so a retry after a lost reply never
     * applies the write twice.
     */
    record Call(UUID clientId, long callId, Request write) implements Request {
        Call {
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(write, "write");
            if (write.type().readOnly || write instanceof Call) {
                throw new IllegalArgumentException("a call wraps one write, not " + write.type());
            }
        }

        @Override
        public Type type() {
            return Type.CALL;
        }

        /** The key of this call in the state machine's {@code calls} column family: client id, call id. */
        byte[] key() {
            return ByteBuffer.allocate(24).putLong(clientId.getMostSignificantBits())
                    .putLong(clientId.getLeastSignificantBits()).putLong(callId).array();
        }
    }


    /** Outcome of a request, carried as a result so that apply never throws for a refused write. */
    enum Status {
        OK(0),
        NOT_FOUND(1),
        EXISTS(2),
        INVALID(3),
        /** A precondition that time will resolve does not hold yet (GC_MAY_SWEEP with leased sessions). */
        BUSY(4),
        /** A commit or renewal named an upload session that is not open (closed, expired, or never opened). */
        SESSION_EXPIRED(5),
        /** A commit would take a quota prefix over its maximum (since format version 8; only commits). */
        QUOTA_EXCEEDED(6),
        /** A delete of an image that another image names as its parent (since format version 9; only deletes). */
        IN_USE(7);

        final int code;

        Status(int code) {
            this.code = code;
        }

        static Status of(int code) {
            for (Status s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            throw new MalformedMessageException("unknown catalog reply status " + code);
        }
    }

    /**
     * A reply. {@code index} is the log index of a write (0 for a query); {@code images} holds
     * the result of a query; {@code message} says why when the status is not OK.
     */
    record Reply(Status status, long index, List<ImageInfo> images, String message) {
        Reply {
            Objects.requireNonNull(status, "status");
            images = List.copyOf(images);
            message = message == null ? "" : message;
        }

        static Reply ok(long index) {
            return new Reply(Status.OK, index, List.of(), "");
        }

        static Reply images(List<ImageInfo> images) {
            return new Reply(Status.OK, 0, images, "");
        }

        static Reply refused(Status status, String message) {
            return new Reply(status, 0, List.of(), message);
        }
    }

    /** Bytes that are not a catalog message this build understands. */
    static final class MalformedMessageException extends IllegalArgumentException {
        MalformedMessageException(String message) {
            super(message);
        }

        MalformedMessageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ---- requests

    static byte[] encode(Request request) {
        ImageName parent = CatalogImageMessages.parentOf(request);
        if (parent != null) {
            byte[] commit = encode(CatalogImageMessages.withoutParent(request));
            ByteBuffer b = ByteBuffer.allocate(2 + 2 + ImageName.MAX_LENGTH + 2 + commit.length);
            b.put((byte) Type.WITH_PARENT.sinceVersion).put((byte) Type.WITH_PARENT.code);
            putString(b, parent.value());
            putBytes(b, commit);
            return copyOut(b);
        }
        int members = request instanceof SeedMembers seed ? seed.members().size() : 1;
        ByteBuffer b = ByteBuffer.allocate(2 + 24 + 2 + 2 + 2 + ImageName.MAX_LENGTH + 2 + 2 * ImageRoot.ENCODED_LENGTH + 16 + 8
                + 4 + members * MAX_MEMBER_BYTES + CatalogTokenMessages.MAX_TOKEN_BYTES);
        b.put((byte) request.type().sinceVersion).put((byte) request.type().code);
        if (request instanceof Call c) {
            b.putLong(c.clientId().getMostSignificantBits()).putLong(c.clientId().getLeastSignificantBits());
            b.putLong(c.callId());
            putBytes(b, encode(c.write()));
        } else if (request instanceof CommitImage c) {
            putString(b, c.name().value());
            putBytes(b, c.root().encode());
        } else if (request instanceof CommitInSession c) {
            putString(b, c.name().value());
            putBytes(b, c.root().encode());
            putUuid(b, c.sessionId());
            b.putLong(c.leaderMillis());
        } else if (request instanceof DeleteImage d) {
            putString(b, d.name().value());
        } else if (request instanceof GetImage g) {
            putString(b, g.name().value());
        } else if (request instanceof ListImages l) {
            putString(b, l.prefix());
            b.putInt(l.limit());
        } else if (request instanceof OpenSession o) {
            putUuid(b, o.sessionId());
            putUuid(b, o.clientId());
            b.putLong(o.leaseMillis()).putLong(o.leaderMillis());
        } else if (request instanceof RenewSession r) {
            putUuid(b, r.sessionId());
            b.putLong(r.leaseMillis()).putLong(r.leaderMillis());
        } else if (request instanceof CloseSession c) {
            putUuid(b, c.sessionId());
        } else if (request instanceof BeginGcEpoch g) {
            b.putLong(g.epoch()).putLong(g.leaderMillis());
        } else if (request instanceof GcMaySweep g) {
            b.putLong(g.epoch()).putLong(g.leaderMillis());
        } else if (request instanceof SeedMembers seed) {
            b.putInt(seed.members().size());
            seed.members().forEach(m -> putMember(b, m));
        } else if (request instanceof AddMember a) {
            putMember(b, a.member());
        } else if (request instanceof MarkLeaving m) {
            putString(b, m.id());
            b.putInt(m.minActive());
        } else if (request instanceof RemoveMember r) {
            putString(b, r.id());
        } else if (request instanceof CreateToken t) {
            CatalogTokenMessages.putToken(b, t.token());
            b.putLong(t.leaderMillis());
        } else if (request instanceof RevokeToken r) {
            putString(b, r.id());
        } else if (request instanceof SetQuota q) {
            putString(b, q.prefix());
            b.putLong(q.maxBytes());
        } else if (request instanceof RemoveQuota q) {
            putString(b, q.prefix());
        }
        return copyOut(b);
    }

    static Request decodeRequest(ByteBuffer b) {
        try {
            int version = checkVersion(b);
            Type type = Type.of(b.get() & 0xff);
            if (type.sinceVersion > version) {
                throw new MalformedMessageException(type + " does not exist in catalog message format version " + version);
            }
            Request request = switch (type) {
                case COMMIT_IMAGE -> new CommitImage(new ImageName(getString(b)), decodeRoot(getBytes(b, MAX_ROOT_BYTES)));
                case DELETE_IMAGE -> new DeleteImage(new ImageName(getString(b)));
                case GET_IMAGE -> new GetImage(new ImageName(getString(b)));
                case LIST_IMAGES -> new ListImages(getString(b), b.getInt());
                case CALL -> new Call(new UUID(b.getLong(), b.getLong()), b.getLong(),
                        decodeRequest(ByteBuffer.wrap(getBytes(b, MAX_STRING_BYTES))));
                case OPEN_SESSION -> new OpenSession(getUuid(b), getUuid(b), b.getLong(), b.getLong());
                case CLOSE_SESSION -> new CloseSession(getUuid(b));
                case RENEW_SESSION -> new RenewSession(getUuid(b), b.getLong(), b.getLong());
                case BEGIN_GC_EPOCH -> new BeginGcEpoch(b.getLong(), b.getLong());
                case GC_MAY_SWEEP -> new GcMaySweep(b.getLong(), b.getLong());
                case COMMIT_IN_SESSION, COMMIT_CLOSING_SESSION -> new CommitInSession(new ImageName(getString(b)),
                        decodeRoot(getBytes(b, MAX_ROOT_BYTES)), getUuid(b), b.getLong(),
                        type == Type.COMMIT_CLOSING_SESSION);
                case SEED_MEMBERS -> {
                    int count = b.getInt();
                    if (count < 1 || count > MAX_MEMBERS) {
                        throw new MalformedMessageException("a seed lists 1.." + MAX_MEMBERS + " members, not " + count);
                    }
                    List<Member> members = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        members.add(getMember(b));
                    }
                    yield new SeedMembers(members);
                }
                case ADD_MEMBER -> new AddMember(getMember(b));
                case MARK_LEAVING -> new MarkLeaving(getString(b), b.getInt());
                case REMOVE_MEMBER -> new RemoveMember(getString(b));
                case CREATE_TOKEN -> {
                    StoredToken token = CatalogTokenMessages.getToken(b, 0);
                    yield new CreateToken(token, b.getLong());
                }
                case REVOKE_TOKEN -> new RevokeToken(getString(b));
                case SET_QUOTA -> new SetQuota(getString(b), b.getLong());
                case REMOVE_QUOTA -> new RemoveQuota(getString(b));
                case WITH_PARENT -> {
                    ImageName parent = new ImageName(getString(b));
                    yield CatalogImageMessages.withParent(decodeRequest(ByteBuffer.wrap(getBytes(b, MAX_STRING_BYTES))), parent);
                }
            };
            checkFullyRead(b);
            return request;
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("catalog message is truncated", e);
        } catch (MalformedMessageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new MalformedMessageException("catalog message is invalid: " + e.getMessage(), e);
        }
    }

    // ---- helpers

    /** Reads the format version byte; refuses one this build does not know. */
    static int checkVersion(ByteBuffer b) {
        int version = b.get() & 0xff;
        if (version < 1 || version > FORMAT_VERSION) {
            throw new MalformedMessageException("catalog message format version " + version
                    + " is not known to this build (it reads 1.." + FORMAT_VERSION
                    + "); upgrade this node before it applies entries written by a newer one");
        }
        return version;
    }

    /** An image root that fills {@code bytes} exactly. */
    static ImageRoot decodeRoot(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        ImageRoot root = ImageRoot.decode(b);
        checkFullyRead(b);
        return root;
    }
}
