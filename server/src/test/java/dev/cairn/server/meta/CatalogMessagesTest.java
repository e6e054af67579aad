package dev.cairn.server.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.protocol.MembershipMessages.MemberState;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogGcMessages.BeginGcEpoch;
import dev.cairn.server.meta.CatalogGcMessages.GcMaySweep;
import dev.cairn.server.meta.CatalogImageMessages.CommitImage;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import dev.cairn.server.meta.CatalogImageMessages.GetImage;
import dev.cairn.server.meta.CatalogImageMessages.ListImages;
import dev.cairn.server.meta.CatalogSessionMessages.CloseSession;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import dev.cairn.server.meta.CatalogSessionMessages.OpenSession;
import dev.cairn.server.meta.CatalogSessionMessages.RenewSession;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CatalogMessagesTest {

    private static final ImageName NAME = new ImageName("job-42/rank-0/ckpt-7");

    private static final List<Request> REQUESTS = List.of(
            new CommitImage(NAME, root("r")),
            new DeleteImage(NAME),
            new GetImage(NAME),
            new ListImages("job-42/", 100),
            new ListImages("", 1),
            new Call(new UUID(0x0123456789abcdefL, -2L), 7, new CommitImage(NAME, root("c"))),
            new Call(new UUID(1, 2), Long.MAX_VALUE, new DeleteImage(NAME)),
            new OpenSession(new UUID(3, 4), new UUID(5, 6), 60_000, 1_700_000_000_123L),
            new CloseSession(new UUID(3, 4)),
            new RenewSession(new UUID(3, 4), 60_000, 1_700_000_000_456L),
            new CommitInSession(NAME, root("s"), new UUID(3, 4), 1_700_000_000_789L, false),
            new CommitInSession(NAME, root("t"), new UUID(3, 4), 1_700_000_000_790L, true),
            new BeginGcEpoch(1, 0),
            new GcMaySweep(Long.MAX_VALUE, 42),
            new CatalogMemberMessages.SeedMembers(List.of(member("n1", ""), member("n2", "rack-2"))),
            new CatalogMemberMessages.AddMember(member("n3", "rack-1")),
            new CatalogMemberMessages.MarkLeaving("n2", 3),
            new CatalogMemberMessages.RemoveMember("n2"),
            new CatalogTokenMessages.CreateToken(token("0123456789abcdef", List.of("team-a/", "b/")), 1_700_000_000_999L),
            new CatalogTokenMessages.CreateToken(token("fedcba9876543210", List.of()), 0),
            new CatalogTokenMessages.RevokeToken("0123456789abcdef"),
            new CatalogQuotaMessages.SetQuota("team-a/", 500L << 30),
            new CatalogQuotaMessages.RemoveQuota("team-a/"));

    private static StoredToken token(String id, List<String> prefixes) {
        byte[] hash = new byte[32];
        Arrays.fill(hash, (byte) id.charAt(0));
        return new StoredToken(new AuthMessages.TokenInfo(id, "team-a", AuthMessages.Role.WRITE, prefixes, 0), hash);
    }

    private static Member member(String id, String zone) {
        return new Member(id, "10.0.0." + id.length(), 7400, 7401, 7402, zone, MemberState.ACTIVE);
    }

    @Test
    void everyRequestTypeSurvivesARoundTrip() {
        for (Request request : REQUESTS) {
            assertEquals(request, CatalogMessages.decodeRequest(ByteBuffer.wrap(CatalogMessages.encode(request))));
        }
    }

    @Test
    void aRequestStartsWithTheVersionOfItsTypeAndTheTypeByte() {
        byte[] bytes = CatalogMessages.encode(new DeleteImage(NAME));
        assertEquals(1, bytes[0], "version 1 types are still written as version 1");
        assertEquals(CatalogMessages.Type.DELETE_IMAGE.code, bytes[1]);
        byte[] call = CatalogMessages.encode(new Call(UUID.randomUUID(), 1, new DeleteImage(NAME)));
        assertEquals(2, call[0]);
        assertEquals(CatalogMessages.Type.CALL.code, call[1]);
    }

    @Test
    void aTypeIsRefusedInAVersionOlderThanTheType() {
        byte[] bytes = CatalogMessages.encode(new Call(UUID.randomUUID(), 1, new DeleteImage(NAME)));
        bytes[0] = 1;
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(bytes)));
        assertTrue(e.getMessage().contains("CALL"), e.getMessage());
    }

    @Test
    void aCallWrapsExactlyOneWrite() {
        assertThrows(IllegalArgumentException.class, () -> new Call(UUID.randomUUID(), 1, new GetImage(NAME)));
        Call inner = new Call(UUID.randomUUID(), 1, new DeleteImage(NAME));
        assertThrows(IllegalArgumentException.class, () -> new Call(UUID.randomUUID(), 2, inner));
    }

    @Test
    void repliesSurviveARoundTrip() {
        List<Reply> replies = List.of(
                Reply.ok(17),
                Reply.images(List.of()),
                Reply.images(List.of(new ImageInfo(NAME, root("a"), 5), new ImageInfo(new ImageName("b"), root("b"), 9))),
                Reply.refused(Status.EXISTS, "image x already exists"),
                Reply.refused(Status.NOT_FOUND, "image y does not exist"));
        for (Reply reply : replies) {
            assertEquals(reply, CatalogReplyCodec.decodeReply(ByteBuffer.wrap(CatalogReplyCodec.encode(reply))));
        }
    }

    @Test
    void aNewerFormatVersionIsRefusedWithAClearMessage() {
        byte[] bytes = CatalogMessages.encode(new CommitImage(NAME, root("r")));
        bytes[0] = (byte) (CatalogMessages.FORMAT_VERSION + 1);
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(bytes)));
        assertTrue(e.getMessage().contains("version " + (CatalogMessages.FORMAT_VERSION + 1)), e.getMessage());
        assertTrue(e.getMessage().contains("upgrade"), e.getMessage());

        byte[] reply = CatalogReplyCodec.encode(Reply.ok(1));
        reply[0] = (byte) 0xff;
        assertThrows(MalformedMessageException.class, () -> CatalogReplyCodec.decodeReply(ByteBuffer.wrap(reply)));
    }

    @Test
    void anUnknownTypeIsRefused() {
        byte[] bytes = CatalogMessages.encode(new GetImage(NAME));
        bytes[1] = 99;
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(bytes)));
    }

    @Test
    void everyTruncationOfEveryRequestIsRefused() {
        for (Request request : REQUESTS) {
            byte[] bytes = CatalogMessages.encode(request);
            for (int length = 0; length < bytes.length; length++) {
                byte[] cut = Arrays.copyOf(bytes, length);
                assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(cut)),
                        request.type() + " cut to " + length + " bytes");
            }
        }
    }

    @Test
    void trailingBytesAreRefused() {
        byte[] bytes = CatalogMessages.encode(new DeleteImage(NAME));
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(longer)));
    }

    @Test
    void anInvalidNameInsideAMessageIsRefused() {
        byte[] bytes = CatalogMessages.encode(new DeleteImage(new ImageName("ab")));
        bytes[bytes.length - 1] = '/';
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(bytes)));
    }

    private static ImageRoot root(String seed) {
        return new ImageRoot(ChunkId.of(seed.getBytes(StandardCharsets.UTF_8)), 10, 4, 1, 2, 1_700_000_000_000L);
    }

    @Test
    void aStoredEntryKeepsItsCommitIndexAndRoot() {
        byte[] value = CatalogReplyCodec.encodeEntry(42, root("e"));
        assertEquals(new ImageInfo(NAME, root("e"), 42), CatalogReplyCodec.decodeEntry(NAME, value));
    }

    @Test
    void membershipTypesAreVersion4AndRefusedInsideAnOlderVersion() {
        byte[] add = CatalogMessages.encode(new CatalogMemberMessages.AddMember(member("n3", "")));
        assertEquals(4, add[0]);
        add[0] = 3;
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(add)));
        assertTrue(e.getMessage().contains("does not exist in catalog message format version 3"), e.getMessage());
    }

    @Test
    void renewSessionIsVersion5WithItsFieldsInTheDocumentedOrderAndRefusedInsideAnOlderVersion() {
        byte[] bytes = CatalogMessages.encode(new RenewSession(new UUID(0x0102030405060708L, 0x090a0b0c0d0e0f10L), 60_000, 7));
        ByteBuffer expected = ByteBuffer.allocate(34).put((byte) 5).put((byte) 15)
                .putLong(0x0102030405060708L).putLong(0x090a0b0c0d0e0f10L).putLong(60_000).putLong(7);
        assertArrayEquals(expected.array(), bytes);
        bytes[0] = 4;
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(bytes)));
        assertTrue(e.getMessage().contains("does not exist in catalog message format version 4"), e.getMessage());
    }

    @Test
    void tokenTypesAreVersion7CarryNoTimeButTheStampAndAreRefusedInsideAnOlderVersion() {
        byte[] create = CatalogMessages.encode(new CatalogTokenMessages.CreateToken(token("0123456789abcdef", List.of("a/")), 5));
        assertEquals(7, create[0]);
        assertEquals(17, create[1]);
        byte[] revoke = CatalogMessages.encode(new CatalogTokenMessages.RevokeToken("0123456789abcdef"));
        assertEquals(7, revoke[0]);
        assertEquals(18, revoke[1]);
        StoredToken stored = CatalogTokenMessages.decodeStored(CatalogTokenMessages.encodeStored(
                token("0123456789abcdef", List.of("a/")).createdAt(1234)));
        assertEquals(1234, stored.info().createdMillis());
        create[0] = 6;
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(create)));
        assertTrue(e.getMessage().contains("does not exist in catalog message format version 6"), e.getMessage());
    }

    @Test
    void quotaTypesAreVersion8WithTheDocumentedFieldsAndAreRefusedInsideAnOlderVersion() {
        byte[] set = CatalogMessages.encode(new CatalogQuotaMessages.SetQuota("t/", 12_345));
        ByteBuffer expected = ByteBuffer.allocate(2 + 2 + 2 + 8).put((byte) 8).put((byte) 19)
                .putShort((short) 2).put("t/".getBytes(StandardCharsets.UTF_8)).putLong(12_345);
        assertArrayEquals(expected.array(), set);
        byte[] remove = CatalogMessages.encode(new CatalogQuotaMessages.RemoveQuota("t/"));
        assertEquals(8, remove[0]);
        assertEquals(20, remove[1]);
        StoredQuota stored = new StoredQuota("t/", 12_345, 678);
        assertEquals(stored, CatalogQuotaMessages.decodeStored("t/", CatalogQuotaMessages.encodeStored(stored)));
        set[0] = 7;
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(set)));
        assertTrue(e.getMessage().contains("does not exist in catalog message format version 7"), e.getMessage());
        // A prefix without its slash, or a quota under one byte, is not a quota entry.
        ByteBuffer noSlash = ByteBuffer.allocate(13).put((byte) 8).put((byte) 19).putShort((short) 1).put((byte) 't').putLong(5);
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(noSlash.flip()));
        ByteBuffer zero = ByteBuffer.wrap(CatalogMessages.encode(new CatalogQuotaMessages.SetQuota("t/", 1)));
        zero.putLong(6, 0);
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(zero));
    }

    @Test
    void aClosingCommitIsVersion6WithTheFieldsOfACommitInSessionAndRefusedInsideAnOlderVersion() {
        byte[] closing = CatalogMessages.encode(new CommitInSession(NAME, root("s"), new UUID(3, 4), 99, true));
        byte[] plain = CatalogMessages.encode(new CommitInSession(NAME, root("s"), new UUID(3, 4), 99, false));
        assertEquals(6, closing[0]);
        assertEquals(16, closing[1]);
        assertArrayEquals(Arrays.copyOfRange(plain, 2, plain.length), Arrays.copyOfRange(closing, 2, closing.length));
        closing[0] = 5;
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(closing)));
        assertTrue(e.getMessage().contains("does not exist in catalog message format version 5"), e.getMessage());
    }

    @Test
    void aRenewalOutsideTheLeaseRangeIsRefusedAsOpenSessionIs() {
        assertThrows(IllegalArgumentException.class, () -> new RenewSession(UUID.randomUUID(), 0, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new RenewSession(UUID.randomUUID(), CatalogSessionMessages.MAX_LEASE_MILLIS + 1, 0));
        byte[] bytes = CatalogMessages.encode(new RenewSession(new UUID(1, 2), 1, 0));
        ByteBuffer.wrap(bytes).putLong(18, -5); // the lease field
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(bytes)));
    }

    /** Session entries as older builds wrote them into the log, byte by byte: this build still replays them. */
    @Test
    void sessionEntriesOfOlderVersionsStillDecode() {
        ByteBuffer open = ByteBuffer.allocate(50).put((byte) 2).put((byte) 6).putLong(3).putLong(4).putLong(5).putLong(6)
                .putLong(60_000).putLong(1_700_000_000_123L);
        assertEquals(new OpenSession(new UUID(3, 4), new UUID(5, 6), 60_000, 1_700_000_000_123L),
                CatalogMessages.decodeRequest(open.flip()));
        ByteBuffer close = ByteBuffer.allocate(18).put((byte) 2).put((byte) 7).putLong(3).putLong(4);
        assertEquals(new CloseSession(new UUID(3, 4)), CatalogMessages.decodeRequest(close.flip()));
        byte[] name = NAME.value().getBytes(StandardCharsets.UTF_8);
        byte[] root = root("s").encode();
        ByteBuffer commit = ByteBuffer.allocate(2 + 2 + name.length + 2 + root.length + 24).put((byte) 3).put((byte) 10)
                .putShort((short) name.length).put(name).putShort((short) root.length).put(root)
                .putLong(3).putLong(4).putLong(99);
        assertEquals(new CommitInSession(NAME, root("s"), new UUID(3, 4), 99, false), CatalogMessages.decodeRequest(commit.flip()));
        // And they are still written with the version of their type, not the newest one.
        assertArrayEquals(open.array(), CatalogMessages.encode(
                new OpenSession(new UUID(3, 4), new UUID(5, 6), 60_000, 1_700_000_000_123L)));
        assertArrayEquals(commit.array(), CatalogMessages.encode(new CommitInSession(NAME, root("s"), new UUID(3, 4), 99, false)));
    }

    @Test
    void aMemberWithAnInvalidIdOrPortIsRefusedAsMalformed() {
        byte[] bytes = CatalogMessages.encode(new CatalogMemberMessages.AddMember(member("n3", "")));
        // Byte 2 is the high byte of the id's length: 0x0101 bytes cannot be a node id.
        bytes[2] = 1;
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(bytes)));
        Member stored = new Member("n4", "h", 7400, 7401, 7402, "", MemberState.LEAVING);
        assertEquals(stored, CatalogMemberMessages.decodeStoredMember("n4", CatalogMemberMessages.encodeStoredMember(stored)));
        byte[] badPort = CatalogMessages.encode(new CatalogMemberMessages.AddMember(new Member("n5", "h", 0, 1, 2, "", MemberState.ACTIVE)));
        assertThrows(MalformedMessageException.class, () -> CatalogMessages.decodeRequest(ByteBuffer.wrap(badPort)));
    }
}
