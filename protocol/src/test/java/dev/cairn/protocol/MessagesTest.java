package dev.cairn.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.ChunkMessages.ChunkStatus;
import dev.cairn.protocol.ChunkMessages.Fetched;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MessagesTest {

    private static final int MAX_CHUNK = 4096;
    private static final int MAX_FRAME = 1 << 20;

    static ChunkData chunk(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i);
        }
        return ChunkData.raw(b);
    }

    static ImageRoot root(int seed) {
        return new ImageRoot(ChunkId.of(new byte[] {(byte) seed}), 1L << 40, 12345, 17, 99, 1_700_000_000_000L + seed);
    }

    static ByteBuffer concat(List<ChunkData> chunks) {
        ByteBuffer all = ByteBuffer.allocate(chunks.stream().mapToInt(ChunkData::storedLength).sum());
        chunks.forEach(c -> all.put(c.bytes().duplicate()));
        return all.flip();
    }

    static ByteBuffer plusOneByte(ByteBuffer b) {
        ByteBuffer out = ByteBuffer.allocate(b.remaining() + 1);
        out.put(b.duplicate()).put((byte) 0);
        return out.flip();
    }

    /** Sends a header and payload through a real frame so that the decoders see views, as on a socket. */
    static Frame viaFrame(ByteBuffer header, ByteBuffer payload) {
        return Frame.decode(Frame.request(MessageType.PUT_CHUNKS, 1, header, payload).encode(MAX_FRAME), MAX_FRAME);
    }

    @Test
    void clusterInfoRoundTrips() {
        Messages.ClusterInfo info = new Messages.ClusterInfo("b", 3, 2, 2, List.of(
                new Messages.Peer("a", "10.0.0.1", 7400, 7600),
                new Messages.Peer("b", "n\u00f6de-b.example", 7401, 7601)));
        assertEquals(info, Messages.ClusterInfo.decode(info.encode()));
        assertEquals("10.0.0.1:7400", info.nodes().get(0).endpoint());
        Messages.ClusterInfo none = new Messages.ClusterInfo("x", 1, 1, 1, List.of());
        assertEquals(none, Messages.ClusterInfo.decode(none.encode()));
    }

    @Test
    void chunkIdsRoundTrip() {
        List<ChunkId> ids = List.of(ChunkId.of(new byte[] {1}), ChunkId.of(new byte[] {2}), ChunkId.of(new byte[] {1}));
        assertEquals(ids, ChunkMessages.decodeIds(ChunkMessages.encodeIds(ids)));
        assertEquals(List.of(), ChunkMessages.decodeIds(ChunkMessages.encodeIds(List.of())));
    }

    @Test
    void catalogReadsCarryAnOptionalSessionIndexAndItsAnswerTheServedIndex() {
        ImageName name = new ImageName("a/b");
        assertEquals(new ImageMessages.GetImage(name, ImageMessages.LINEARIZABLE),
                ImageMessages.GetImage.decode(ImageMessages.encodeName(name)));
        assertEquals(new ImageMessages.GetImage(name, 42), ImageMessages.GetImage.decode(new ImageMessages.GetImage(name, 42).encode()));
        assertEquals(new ImageMessages.ListImages("p/", 10, ImageMessages.LINEARIZABLE),
                ImageMessages.ListImages.decode(new ImageMessages.ListImages("p/", 10).encode()));
        assertEquals(new ImageMessages.ListImages("p/", 10, 7), ImageMessages.ListImages.decode(new ImageMessages.ListImages("p/", 10, 7).encode()));
        ImageMessages.SessionImages answer = new ImageMessages.SessionImages(List.of(), 99);
        assertEquals(answer, ImageMessages.SessionImages.decode(answer.encode()));
        ByteBuffer negative = new WireWriter().string("a").i64(-5).toBuffer();
        assertThrows(ProtocolException.class, () -> ImageMessages.GetImage.decode(negative));
    }

    @Test
    void presenceRoundTrips() {
        int[] present = {4096, ChunkMessages.ABSENT, ChunkMessages.ABSENT, 0, 1_000_000};
        assertArrayEquals(present, ChunkMessages.decodePresence(ChunkMessages.encodePresence(present)));
        assertArrayEquals(new int[0], ChunkMessages.decodePresence(ChunkMessages.encodePresence(new int[0])));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ChunkMessages.decodePresence(ChunkMessages.encodePresence(new int[] {12, -2})));
        assertTrue(e.getMessage().contains("stored length -2"), e.getMessage());
    }

    @Test
    void chunksRoundTripAsViewsOfThePayload() {
        List<ChunkData> chunks = List.of(chunk(100, 1), chunk(0, 2), chunk(MAX_CHUNK, 3), chunk(1, 4));
        Frame frame = viaFrame(ChunkMessages.encodeChunkHeader(chunks), concat(chunks));
        List<ChunkData> decoded = ChunkMessages.decodeChunks(frame.header(), frame.payload(), MAX_CHUNK);
        assertEquals(chunks, decoded);
        for (ChunkData c : decoded) {
            assertTrue(c.verify(), "chunk " + c.id().shortHex() + " carries its own bytes");
        }
        assertEquals(0, frame.payload().position(), "decoding does not move the payload");
    }

    @Test
    void fetchedChunksRoundTripWithTheirStatus() {
        ChunkData a = chunk(300, 1);
        ChunkData c = chunk(7, 3);
        ChunkId missing = ChunkId.of(new byte[] {9});
        ChunkId corrupt = ChunkId.of(new byte[] {8});
        List<ChunkId> asked = List.of(a.id(), missing, corrupt, c.id());
        ByteBuffer header = ChunkMessages.encodeFetched(asked, Arrays.asList(a, null, null, c),
                List.of(ChunkStatus.OK, ChunkStatus.MISSING, ChunkStatus.CORRUPT, ChunkStatus.OK));
        Frame frame = viaFrame(header, concat(List.of(a, c)));
        List<Fetched> fetched = ChunkMessages.decodeFetched(asked, frame.header(), frame.payload(), MAX_CHUNK);
        assertEquals(List.of(new Fetched(ChunkStatus.OK, a), new Fetched(ChunkStatus.MISSING, null),
                new Fetched(ChunkStatus.CORRUPT, null), new Fetched(ChunkStatus.OK, c)), fetched);
    }

    @Test
    void fetchedRefusesAnAnswerOfTheWrongLength() {
        ChunkData a = chunk(10, 1);
        ByteBuffer header = ChunkMessages.encodeFetched(List.of(a.id()), List.of(a), List.of(ChunkStatus.OK));
        ProtocolException e = assertThrows(ProtocolException.class, () -> ChunkMessages.decodeFetched(
                List.of(a.id(), a.id()), header, concat(List.of(a)), MAX_CHUNK));
        assertTrue(e.getMessage().contains("asked for 2 chunks, the answer lists 1"), e.getMessage());
    }

    @Test
    void commitImageRoundTrips() {
        ImageMessages.CommitImage commit = new ImageMessages.CommitImage(new ImageName("job-42/rank_0/ckpt.7"), root(1));
        assertEquals(commit, ImageMessages.CommitImage.decode(commit.encode()));
    }

    @Test
    void commitImageCarriesSessionAndNewBytesAsOptionalTaggedFields() {
        ImageName name = new ImageName("job/ckpt.2");
        java.util.UUID session = new java.util.UUID(7, 9);
        ImageMessages.CallId call = new ImageMessages.CallId(new java.util.UUID(1, 2), 3);
        for (ImageMessages.CommitImage commit : List.of(
                new ImageMessages.CommitImage(name, root(2), call, session, 123_456),
                new ImageMessages.CommitImage(name, root(2), call, session, 123_456, true),
                new ImageMessages.CommitImage(name, root(2), call, session, ImageMessages.CommitImage.UNKNOWN, true),
                new ImageMessages.CommitImage(name, root(2), call, null, 0),
                new ImageMessages.CommitImage(name, root(2), call, session))) {
            assertEquals(commit, ImageMessages.CommitImage.decode(commit.encode()));
        }
        assertEquals(ImageMessages.CommitImage.UNKNOWN, ImageMessages.CommitImage.decode(
                new ImageMessages.CommitImage(name, root(2), call, session).encode()).newStoredBytes());
        // Fields out of tag order are not a message any build wrote.
        ByteBuffer plain = new ImageMessages.CommitImage(name, root(2), call).encode();
        ByteBuffer swapped = ByteBuffer.allocate(plain.remaining() + 9 + 17);
        swapped.put(plain.duplicate()).put((byte) 2).putLong(5).put((byte) 1).putLong(7).putLong(9).flip();
        ProtocolException e = assertThrows(ProtocolException.class, () -> ImageMessages.CommitImage.decode(swapped));
        assertTrue(e.getMessage().contains("unexpected trailing bytes"), e.getMessage());
        // The close flag is one tag byte, after the others, and only with a session.
        ByteBuffer withSession = new ImageMessages.CommitImage(name, root(2), call, session).encode();
        ByteBuffer closing = new ImageMessages.CommitImage(name, root(2), call, session, ImageMessages.CommitImage.UNKNOWN, true).encode();
        assertEquals(withSession.remaining() + 1, closing.remaining());
        assertEquals(3, closing.get(closing.limit() - 1));
        ByteBuffer closingWithoutSession = ByteBuffer.allocate(plain.remaining() + 1).put(plain.duplicate()).put((byte) 3).flip();
        e = assertThrows(ProtocolException.class, () -> ImageMessages.CommitImage.decode(closingWithoutSession));
        assertTrue(e.getMessage().contains("closes a session it does not name"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ImageMessages.CommitImage(name, root(2), call, null, ImageMessages.CommitImage.UNKNOWN, true));
    }

    @Test
    void nameRoundTrips() {
        ImageName name = new ImageName("img/a");
        assertEquals(name, ImageMessages.decodeName(ImageMessages.encodeName(name)));
        assertEquals(-5L, Messages.decodeLong(Messages.encodeLong(-5L)));
    }

    @Test
    void listImagesRoundTripsAndRefusesANonPositiveLimit() {
        ImageMessages.ListImages list = new ImageMessages.ListImages("job-42/", 1000);
        assertEquals(list, ImageMessages.ListImages.decode(list.encode()));
        assertEquals(new ImageMessages.ListImages("", 1), ImageMessages.ListImages.decode(new ImageMessages.ListImages("", 1).encode()));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ImageMessages.ListImages.decode(new ImageMessages.ListImages("p", 0).encode()));
        assertTrue(e.getMessage().contains("list limit must be positive, got 0"), e.getMessage());
    }

    @Test
    void imagesRoundTrip() {
        List<ImageInfo> images = List.of(new ImageInfo(new ImageName("a/1"), root(1), 10),
                new ImageInfo(new ImageName("a/2"), root(2), 11));
        assertEquals(images, ImageMessages.decodeImages(ImageMessages.encodeImages(images)));
        assertEquals(List.of(), ImageMessages.decodeImages(ImageMessages.encodeImages(List.of())));
    }

    @Test
    void nodeStatusRoundTripsWithAndWithoutALeader() {
        Messages.NodeStatus status = new Messages.NodeStatus("a", "LEADER", 4, "a", 100, 99, 123456, 1L << 35);
        assertEquals(status, Messages.NodeStatus.decode(status.encode()));
        Messages.NodeStatus noLeader = new Messages.NodeStatus("b", "CANDIDATE", 5, null, 0, 0, 0, 0);
        Messages.NodeStatus decoded = Messages.NodeStatus.decode(noLeader.encode());
        assertEquals(noLeader, decoded);
        assertNull(decoded.leaderId());
    }

    @Test
    void errorRoundTripsAndItsMessageIsCapped() {
        for (ErrorCode code : ErrorCode.values()) {
            Messages.Error error = new Messages.Error(code, "it failed: " + code);
            assertEquals(error, Messages.Error.decode(error.encode()));
        }
        Messages.Error huge = Messages.Error.decode(new Messages.Error(ErrorCode.INTERNAL, "x".repeat(70_000)).encode());
        assertEquals(4000, huge.message().length());
        assertEquals(new Messages.Error(ErrorCode.INTERNAL, ""),
                Messages.Error.decode(new Messages.Error(ErrorCode.INTERNAL, null).encode()));
    }

    @Test
    void anUnknownErrorCodeReadsAsInternal() {
        ByteBuffer header = new WireWriter().u8(200).string("?").toBuffer();
        assertEquals(ErrorCode.INTERNAL, Messages.Error.decode(header).code());
    }

    /** Every decoder of a list, fed a forged count of 2^31-1 items with nothing behind it. */
    @Test
    void aForgedHugeCountIsRefusedBeforeAllocating() {
        ByteBuffer count = new WireWriter().i32(Integer.MAX_VALUE).toBuffer();
        List<Executable> decoders = List.of(
                () -> ChunkMessages.decodeIds(count),
                () -> ChunkMessages.decodePresence(count),
                () -> ChunkMessages.decodeChunks(count, ByteBuffer.allocate(0), MAX_CHUNK),
                () -> ChunkMessages.decodePacks(count, ByteBuffer.allocate(0), MAX_CHUNK),
                () -> ImageMessages.decodeImages(count),
                () -> ChunkMessages.decodeFetched(new ForgedSizeList(Integer.MAX_VALUE), count, ByteBuffer.allocate(0), MAX_CHUNK),
                () -> Messages.ClusterInfo.decode(new WireWriter().string("a").i32(3).i32(2).i32(2).i32(Integer.MAX_VALUE).toBuffer()));
        for (Executable decoder : decoders) {
            ProtocolException e = assertThrows(ProtocolException.class, decoder);
            assertTrue(e.getMessage().contains("count 2147483647"), e.getMessage());
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        }
        ByteBuffer negative = new WireWriter().i32(-1).toBuffer();
        assertThrows(ProtocolException.class, () -> ChunkMessages.decodeIds(negative));
        assertThrows(ProtocolException.class, () -> ChunkMessages.decodePresence(negative));
    }

    @Test
    void everyMessageWithATrailingByteIsRefused() {
        ChunkData a = chunk(10, 1);
        List<Function<ByteBuffer, ?>> decoders = new ArrayList<>();
        List<ByteBuffer> headers = new ArrayList<>();
        headers.add(new Messages.ClusterInfo("a", 1, 1, 1, List.of(new Messages.Peer("a", "h", 1, 2))).encode());
        decoders.add(Messages.ClusterInfo::decode);
        headers.add(ChunkMessages.encodeIds(List.of(a.id())));
        decoders.add(ChunkMessages::decodeIds);
        headers.add(ChunkMessages.encodePresence(new int[] {7}));
        decoders.add(ChunkMessages::decodePresence);
        headers.add(ChunkMessages.encodeChunkHeader(List.of(a)));
        decoders.add(h -> ChunkMessages.decodeChunks(h, a.bytes(), MAX_CHUNK));
        headers.add(ChunkMessages.encodeFetched(List.of(a.id()), List.of(a), List.of(ChunkStatus.OK)));
        decoders.add(h -> ChunkMessages.decodeFetched(List.of(a.id()), h, a.bytes(), MAX_CHUNK));
        ChunkPack pack = packs(1, 3).get(0);
        headers.add(ChunkMessages.encodePackHeader(List.of(pack)));
        decoders.add(h -> ChunkMessages.decodePacks(h, pack.frame(), MAX_CHUNK));
        headers.add(new ImageMessages.CommitImage(new ImageName("x"), root(1)).encode());
        decoders.add(ImageMessages.CommitImage::decode);
        headers.add(ImageMessages.encodeName(new ImageName("x")));
        decoders.add(ImageMessages::decodeName);
        headers.add(Messages.encodeLong(1));
        decoders.add(Messages::decodeLong);
        headers.add(new ImageMessages.ListImages("x", 1).encode());
        decoders.add(ImageMessages.ListImages::decode);
        headers.add(ImageMessages.encodeImages(List.of(new ImageInfo(new ImageName("x"), root(1), 1))));
        decoders.add(ImageMessages::decodeImages);
        headers.add(new Messages.NodeStatus("a", "FOLLOWER", 1, "b", 1, 1, 1, 1).encode());
        decoders.add(Messages.NodeStatus::decode);
        headers.add(new Messages.Error(ErrorCode.EXISTS, "x").encode());
        decoders.add(Messages.Error::decode);

        for (int i = 0; i < headers.size(); i++) {
            ByteBuffer header = headers.get(i);
            Function<ByteBuffer, ?> decoder = decoders.get(i);
            decoder.apply(header); // the untouched message is accepted
            ProtocolException e = assertThrows(ProtocolException.class, () -> decoder.apply(plusOneByte(header)), "message " + i);
            assertTrue(e.getMessage().contains("1 unexpected trailing bytes"), e.getMessage());
        }
    }

    @Test
    void aPayloadWithBytesNoChunkClaimsIsRefused() {
        List<ChunkData> chunks = List.of(chunk(10, 1), chunk(20, 2));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ChunkMessages.decodeChunks(ChunkMessages.encodeChunkHeader(chunks), plusOneByte(concat(chunks)), MAX_CHUNK));
        assertTrue(e.getMessage().contains("frame payload has 1 bytes no chunk claims"), e.getMessage());
    }

    @Test
    void aChunkRunningPastThePayloadIsRefused() {
        List<ChunkData> chunks = List.of(chunk(10, 1), chunk(20, 2));
        ByteBuffer shortPayload = concat(chunks).limit(29);
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ChunkMessages.decodeChunks(ChunkMessages.encodeChunkHeader(chunks), shortPayload, MAX_CHUNK));
        assertTrue(e.getMessage().contains("runs past the end of the frame payload"), e.getMessage());
    }

    @Test
    void aChunkOverTheChunkLimitIsRefused() {
        List<ChunkData> chunks = List.of(chunk(MAX_CHUNK + 1, 1));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ChunkMessages.decodeChunks(ChunkMessages.encodeChunkHeader(chunks), concat(chunks), MAX_CHUNK));
        assertTrue(e.getMessage().contains("length 4097 is outside 0..4096"), e.getMessage());

        ChunkData big = chunks.get(0);
        ByteBuffer fetchedHeader = ChunkMessages.encodeFetched(List.of(big.id()), chunks, List.of(ChunkStatus.OK));
        assertThrows(ProtocolException.class,
                () -> ChunkMessages.decodeFetched(List.of(big.id()), fetchedHeader, concat(chunks), MAX_CHUNK));
    }

    @Test
    void anUnknownCodecOrStatusIsAProtocolException() {
        ChunkData a = chunk(10, 1);
        ByteBuffer header = ChunkMessages.encodeChunkHeader(List.of(a));
        header.put(4 + ChunkId.LENGTH_BYTES, (byte) 9);
        ProtocolException e = assertThrows(ProtocolException.class, () -> ChunkMessages.decodeChunks(header, a.bytes(), MAX_CHUNK));
        assertTrue(e.getMessage().contains("unknown chunk codec 9"), e.getMessage());

        ByteBuffer fetched = ChunkMessages.encodeFetched(List.of(a.id()), List.of(a), List.of(ChunkStatus.OK));
        fetched.put(4, (byte) 3);
        e = assertThrows(ProtocolException.class, () -> ChunkMessages.decodeFetched(List.of(a.id()), fetched, a.bytes(), MAX_CHUNK));
        assertTrue(e.getMessage().contains("unknown chunk status 3"), e.getMessage());
    }

    @Test
    void anInvalidImageNameInsideAMessageIsAnInvalidNameException() {
        byte[] root = root(1).encode();
        assertThrows(ImageName.InvalidNameException.class,
                () -> ImageMessages.CommitImage.decode(new WireWriter().string("../etc").bytes(root).toBuffer()));
        assertThrows(ImageName.InvalidNameException.class,
                () -> ImageMessages.decodeName(new WireWriter().string("a//b").toBuffer()));
        assertThrows(ImageName.InvalidNameException.class,
                () -> ImageMessages.decodeImages(new WireWriter().i32(1).string("").bytes(root).i64(1).toBuffer()));
    }

    @Test
    void aTruncatedOrForeignImageRootInsideAMessageIsAProtocolException() {
        byte[] root = root(1).encode();
        byte[] truncated = Arrays.copyOf(root, root.length - 1);
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ImageMessages.CommitImage.decode(new WireWriter().string("x").bytes(truncated).toBuffer()));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        byte[] futureVersion = root.clone();
        futureVersion[0] = 2;
        e = assertThrows(ProtocolException.class,
                () -> ImageMessages.decodeImages(new WireWriter().i32(1).string("x").bytes(futureVersion).i64(1).toBuffer()));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void anImageRootWithTrailingBytesInsideAMessageIsRefused() {
        // The root has a fixed length; extra bytes in its length-prefixed field must not be ignored silently.
        byte[] longer = Arrays.copyOf(root(1).encode(), ImageRoot.ENCODED_LENGTH + 1);
        assertThrows(ProtocolException.class,
                () -> ImageMessages.CommitImage.decode(new WireWriter().string("x").bytes(longer).toBuffer()));
        assertThrows(ProtocolException.class,
                () -> ImageMessages.decodeImages(new WireWriter().i32(1).string("x").bytes(longer).i64(1).toBuffer()));
    }

    @Test
    void aChunkEntryWhoseRawLengthDisagreesWithARawPayloadIsRefused() {
        ChunkData a = chunk(10, 1);
        ByteBuffer header = ChunkMessages.encodeChunkHeader(List.of(a));
        header.putInt(4 + ChunkId.LENGTH_BYTES + 1, 11);
        assertThrows(IllegalArgumentException.class, () -> ChunkMessages.decodeChunks(header, a.bytes(), MAX_CHUNK));
    }

    @Test
    void aZstdChunkKeepsItsRawLengthAcrossTheWire() {
        ChunkData z = new ChunkData(ChunkId.of(new byte[100]), ChunkCodec.ZSTD, 100, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        List<ChunkData> decoded = ChunkMessages.decodeChunks(ChunkMessages.encodeChunkHeader(List.of(z)), concat(List.of(z)), MAX_CHUNK);
        assertEquals(List.of(z), decoded);
    }

    /** {@code count} packs of 1, 2, 3… pages alike enough that zstd makes a pack of them. */
    static List<ChunkPack> packs(int count, long seed) {
        Random random = new Random(seed);
        List<ChunkPack> packs = new ArrayList<>();
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            for (int p = 0; p < count; p++) {
                byte[] base = new byte[4096];
                for (int i = 0; i < base.length; i++) {
                    base[i] = (byte) random.nextInt(4); // compresses, alone too
                }
                List<ChunkData> pages = new ArrayList<>();
                for (int i = 0; i <= p; i++) {
                    byte[] page = base.clone();
                    page[random.nextInt(page.length)] ^= (byte) (1 + i);
                    // Pages of several lengths, so that a member's raw length is not always 4096.
                    pages.add(ChunkData.raw(Arrays.copyOf(page, page.length - 7 * i)));
                }
                ChunkPack pack = encoder.encodePack(pages);
                assertTrue(pack != null && pack.verify(), "pack " + p);
                packs.add(pack);
            }
        }
        return packs;
    }

    static ByteBuffer frames(List<ChunkPack> packs) {
        ByteBuffer all = ByteBuffer.allocate(packs.stream().mapToInt(ChunkPack::storedLength).sum());
        packs.forEach(p -> all.put(p.frame().duplicate()));
        return all.flip();
    }

    /** A PUT_PACKS header of one pack with members of {@code rawLengths}, written field by field. */
    static ByteBuffer packHeader(int storedLength, int... rawLengths) {
        WireWriter w = new WireWriter().i32(1).u16(rawLengths.length);
        for (int i = 0; i < rawLengths.length; i++) {
            w.id(ChunkId.of(new byte[] {(byte) i})).i32(rawLengths[i]);
        }
        return w.i32(storedLength).toBuffer();
    }

    private static void assertPacksRefused(ByteBuffer header, ByteBuffer payload, String why) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> ChunkMessages.decodePacks(header, payload, MAX_CHUNK));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void packsRoundTripAsViewsOfThePayload() {
        List<ChunkPack> packs = packs(4, 11);
        Frame frame = Frame.decode(Frame.request(MessageType.PUT_PACKS, 1, ChunkMessages.encodePackHeader(packs), frames(packs))
                .encode(MAX_FRAME), MAX_FRAME);
        assertEquals(MessageType.PUT_PACKS, frame.type());
        List<ChunkPack> decoded = ChunkMessages.decodePacks(frame.header(), frame.payload(), MAX_CHUNK);
        assertEquals(packs.size(), decoded.size());
        for (int i = 0; i < packs.size(); i++) {
            ChunkPack sent = packs.get(i);
            ChunkPack got = decoded.get(i);
            assertEquals(sent.members(), got.members(), "pack " + i);
            assertEquals(sent.frame(), got.frame(), "pack " + i);
            assertTrue(got.verify(), "pack " + i + " carries its own frame");
        }
        assertEquals(List.of(4096), decoded.get(0).members().stream().map(ChunkPack.Member::rawLength).toList());
        assertEquals(List.of(4096, 4089, 4082, 4075), decoded.get(3).members().stream().map(ChunkPack.Member::rawLength).toList());
        assertEquals(0, frame.payload().position(), "decoding does not move the payload");
        assertEquals(List.of(), ChunkMessages.decodePacks(ChunkMessages.encodePackHeader(List.of()), ByteBuffer.allocate(0), MAX_CHUNK));
    }

    @Test
    void aPackHeaderIsTheMembersThenTheStoredLength() {
        ChunkPack pack = packs(2, 12).get(1);
        ByteBuffer expected = new WireWriter().i32(1).u16(2)
                .id(pack.members().get(0).id()).i32(4096)
                .id(pack.members().get(1).id()).i32(4089)
                .i32(pack.storedLength()).toBuffer();
        assertEquals(expected, ChunkMessages.encodePackHeader(List.of(pack)));
        assertEquals(4 + 2 + 2 * 36 + 4, expected.remaining());
    }

    @Test
    void aPackMemberCountOutsideTheLimitsOrTheHeaderIsRefused() {
        // Padded to the least a pack takes, so that the pack count fits and the member count is read.
        ByteBuffer empty = new WireWriter().i32(1).u16(0).i32(0).bytes(new byte[32]).toBuffer();
        assertPacksRefused(empty, ByteBuffer.allocate(0), "pack 0 has 0 members, not 1..256");
        int[] tooMany = new int[ChunkPack.MAX_MEMBERS + 1];
        Arrays.fill(tooMany, 1);
        assertPacksRefused(packHeader(tooMany.length, tooMany), ByteBuffer.allocate(tooMany.length),
                "pack 0 has 257 members, not 1..256");
        // A count of 200 members with room for one behind it.
        ByteBuffer forged = new WireWriter().i32(1).u16(200).id(ChunkId.of(new byte[] {1})).i32(10).i32(5).toBuffer();
        assertPacksRefused(forged, ByteBuffer.allocate(5), "count 200 of pack 0's members does not fit in the 40 bytes left");
    }

    @Test
    void aPackMemberRawLengthOutsideTheLimitIsRefused() {
        assertPacksRefused(packHeader(3, 100, 0), ByteBuffer.allocate(3), "raw length 0 is outside 1..16384");
        assertPacksRefused(packHeader(3, -1), ByteBuffer.allocate(3), "raw length -1 is outside 1..16384");
        assertPacksRefused(packHeader(3, ChunkPack.MAX_MEMBER_BYTES + 1), ByteBuffer.allocate(3),
                "raw length 16385 is outside 1..16384");
        // The largest member is a member.
        assertEquals(1, ChunkMessages.decodePacks(packHeader(3, ChunkPack.MAX_MEMBER_BYTES), ByteBuffer.allocate(3), MAX_CHUNK).size());
    }

    @Test
    void aPackNamingAMemberTwiceIsRefused() {
        ChunkId twice = ChunkId.of(new byte[] {7});
        ByteBuffer header = new WireWriter().i32(1).u16(3).id(ChunkId.of(new byte[] {1})).i32(10)
                .id(twice).i32(10).id(twice).i32(10).i32(3).toBuffer();
        assertPacksRefused(header, ByteBuffer.allocate(3), "pack 0 names member " + twice.shortHex() + " twice");
    }

    @Test
    void aPackThatDecodesToMoreThanTheLimitIsRefused() {
        int m = ChunkPack.MAX_MEMBER_BYTES;
        assertPacksRefused(packHeader(3, m, m, m, m, 1), ByteBuffer.allocate(3), "decodes to at most 65536 bytes, not 65537");
        assertEquals(1, ChunkMessages.decodePacks(packHeader(3, m, m, m, m), ByteBuffer.allocate(3), MAX_CHUNK).size());
    }

    @Test
    void aPackStoredLengthOutsideTheChunkLimitIsRefused() {
        assertPacksRefused(packHeader(MAX_CHUNK + 1, 10), ByteBuffer.allocate(MAX_CHUNK + 1),
                "stored length 4097 is outside 1..4096");
        assertPacksRefused(packHeader(-1, 10), ByteBuffer.allocate(0), "stored length -1 is outside 1..4096");
        assertPacksRefused(packHeader(0, 10), ByteBuffer.allocate(0), "stored length 0 is outside 1..4096");
    }

    @Test
    void aPackFrameRunningPastThePayloadOrBytesNoPackClaimsAreRefused() {
        List<ChunkPack> packs = packs(3, 13);
        ByteBuffer header = ChunkMessages.encodePackHeader(packs);
        ByteBuffer all = frames(packs);
        assertPacksRefused(header, all.duplicate().limit(all.limit() - 1), "pack 2 from");
        assertPacksRefused(header, all.duplicate().limit(all.limit() - 1), "runs past the end of the frame payload");
        assertPacksRefused(header, plusOneByte(all), "frame payload has 1 bytes no pack claims");
        assertEquals(3, ChunkMessages.decodePacks(header, all, MAX_CHUNK).size());
    }

    /** A list that claims a size without holding the elements, to match a forged count. */
    private static final class ForgedSizeList extends java.util.AbstractList<ChunkId> {
        private final int size;

        ForgedSizeList(int size) {
            this.size = size;
        }

        @Override
        public ChunkId get(int index) {
            throw new IndexOutOfBoundsException(index);
        }

        @Override
        public int size() {
            return size;
        }
    }

    @Test
    void clusterInfoCarriesZonesStatesAndTheMembershipIndex() {
        Messages.ClusterInfo info = new Messages.ClusterInfo("b", 3, 2, 2, List.of(
                new Messages.Peer("a", "10.0.0.1", 7400, 7402, "rack-1", MembershipMessages.MemberState.ACTIVE),
                new Messages.Peer("b", "10.0.0.2", 7400, 7402, "", MembershipMessages.MemberState.LEAVING)), 42);
        Messages.ClusterInfo decoded = Messages.ClusterInfo.decode(info.encode());
        assertEquals(info, decoded);
        assertEquals(List.of("a"), decoded.activeNodes().stream().map(Messages.Peer::id).toList());
    }

    @Test
    void clusterInfoWithoutTheMembershipSectionDecodesAsZonelessAndActive() {
        // The answer of a node built before membership changes: the node list and nothing after it.
        ByteBuffer old = new WireWriter().string("a").i32(3).i32(2).i32(2).i32(1)
                .string("a").string("10.0.0.1").i32(7400).i32(7402).toBuffer();
        Messages.ClusterInfo decoded = Messages.ClusterInfo.decode(old);
        assertEquals(List.of(new Messages.Peer("a", "10.0.0.1", 7400, 7402)), decoded.nodes());
        assertEquals(0, decoded.membershipIndex());
    }

    @Test
    void memberListAndRemoveRequestsRoundTrip() {
        MembershipMessages.MemberList list = new MembershipMessages.MemberList(17, List.of(
                new MembershipMessages.Member("n1", "h1", 1, 2, 3, "z", MembershipMessages.MemberState.ACTIVE),
                new MembershipMessages.Member("n2", "h2", 4, 5, 6, "", MembershipMessages.MemberState.LEAVING)),
                List.of("n1", "n2"));
        assertEquals(list, MembershipMessages.MemberList.decode(list.encode()));
        MembershipMessages.Member m = list.members().get(0);
        assertEquals(m, MembershipMessages.Member.decode(m.encode()));
        MembershipMessages.RemoveNode remove = new MembershipMessages.RemoveNode("n2", MembershipMessages.RemovePhase.DROP);
        assertEquals(remove, MembershipMessages.RemoveNode.decode(remove.encode()));
        assertThrows(ProtocolException.class, () -> MembershipMessages.RemoveNode.decode(
                new WireWriter().string("n2").u8(9).toBuffer()));
    }
}
