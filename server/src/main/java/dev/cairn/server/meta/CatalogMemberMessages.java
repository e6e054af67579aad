package dev.cairn.server.meta;

import static dev.cairn.server.meta.CatalogBytes.checkFullyRead;
import static dev.cairn.server.meta.CatalogBytes.copyOut;
import static dev.cairn.server.meta.CatalogBytes.getString;
import static dev.cairn.server.meta.CatalogBytes.putString;

import dev.cairn.config.ConfigException;
import dev.cairn.config.NodeAddress;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Type;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * The membership requests of the catalog (seed, add, mark leaving, remove), and the byte format
 * of a member, in log entries and as stored in the catalog. The requests' own framing is in
 * {@link CatalogMessages}, with every other request's.
 */
final class CatalogMemberMessages {

    private CatalogMemberMessages() {}

    /** Most members a membership entry may list: far beyond a cluster's size, small enough for one entry. */
    static final int MAX_MEMBERS = 1024;

    /** Records the first membership (every node active); refused once one is recorded. */
    record SeedMembers(List<Member> members) implements Request {
        SeedMembers {
            members = List.copyOf(members);
            if (members.isEmpty() || members.size() > MAX_MEMBERS) {
                throw new IllegalArgumentException("a seed lists 1.." + MAX_MEMBERS + " members, not " + members.size());
            }
        }

        @Override
        public Type type() {
            return Type.SEED_MEMBERS;
        }
    }

    /** Records {@code member} as an active member. */
    record AddMember(Member member) implements Request {
        AddMember {
            Objects.requireNonNull(member, "member");
        }

        @Override
        public Type type() {
            return Type.ADD_MEMBER;
        }
    }

    /**
     * Marks member {@code id} leaving, unless fewer than {@code minActive} active members would
     * remain. The bound travels in the entry so that every replica judges it alike.
     */
    record MarkLeaving(String id, int minActive) implements Request {
        MarkLeaving {
            Objects.requireNonNull(id, "id");
            if (minActive < 1) {
                throw new IllegalArgumentException("minActive " + minActive + " is not positive");
            }
        }

        @Override
        public Type type() {
            return Type.MARK_LEAVING;
        }
    }

    /** Forgets leaving member {@code id}. */
    record RemoveMember(String id) implements Request {
        RemoveMember {
            Objects.requireNonNull(id, "id");
        }

        @Override
        public Type type() {
            return Type.REMOVE_MEMBER;
        }
    }

    // ---- members: in log entries (str id, str host, i32 port, i32 raftPort, i32 httpPort, str zone)
    // and stored in the members column family (key id; u8 version, the same fields after id, u8 state)

    /** Upper bound of one encoded member: id and zone at most 32 bytes, a host name at most 255. */
    static final int MAX_MEMBER_BYTES = 2 + 32 + 2 + 255 + 12 + 2 + 32 + 1;
    private static final int MEMBER_VERSION = 1;

    static void putMember(ByteBuffer b, Member m) {
        putString(b, m.id());
        putString(b, m.host());
        b.putInt(m.port()).putInt(m.raftPort()).putInt(m.httpPort());
        putString(b, m.zone());
    }

    static Member getMember(ByteBuffer b) {
        String id = getString(b);
        String host = getString(b);
        int port = b.getInt();
        int raftPort = b.getInt();
        int httpPort = b.getInt();
        return member(id, host, port, raftPort, httpPort, getString(b), MemberState.ACTIVE);
    }

    /** A member with every field checked as the config checks a node; refused as malformed otherwise. */
    static Member member(String id, String host, int port, int raftPort, int httpPort, String zone, MemberState state) {
        try {
            NodeAddress checked = new NodeAddress(id, host, port, raftPort, httpPort, zone);
            if (host.getBytes(StandardCharsets.UTF_8).length > 255) {
                throw new MalformedMessageException("host of node " + id + " is longer than 255 bytes");
            }
            return new Member(checked.id(), checked.host(), checked.port(), checked.raftPort(), checked.httpPort(),
                    checked.zone(), state);
        } catch (ConfigException e) {
            throw new MalformedMessageException(e.getMessage(), e);
        }
    }

    static byte[] encodeStoredMember(Member m) {
        ByteBuffer b = ByteBuffer.allocate(1 + MAX_MEMBER_BYTES);
        b.put((byte) MEMBER_VERSION);
        putString(b, m.host());
        b.putInt(m.port()).putInt(m.raftPort()).putInt(m.httpPort());
        putString(b, m.zone());
        b.put((byte) m.state().ordinal());
        return copyOut(b);
    }

    static Member decodeStoredMember(String id, byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        try {
            int version = b.get() & 0xff;
            if (version != MEMBER_VERSION) {
                throw new MalformedMessageException("member " + id + " is stored in version " + version
                        + "; this build reads version " + MEMBER_VERSION);
            }
            String host = getString(b);
            int port = b.getInt();
            int raftPort = b.getInt();
            int httpPort = b.getInt();
            String zone = getString(b);
            int state = b.get() & 0xff;
            checkFullyRead(b);
            if (state >= MemberState.values().length) {
                throw new MalformedMessageException("member " + id + " has unknown state " + state);
            }
            return member(id, host, port, raftPort, httpPort, zone, MemberState.values()[state]);
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("member " + id + " is truncated", e);
        }
    }
}
