package dev.cairn.protocol;

import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.protocol.ChunkMessages.ChunkStatus;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random mutations of valid frames: whatever a peer sends, the decoders either decode it or refuse
 * it with one of the exceptions a server maps to an error reply; never a crash of another kind.
 */
class ProtocolFuzzTest {

    private static final long SEED = 0xC0FFEE_2024L;
    private static final int ROUNDS = 10_000;
    private static final int MAX_FRAME = 1 << 16;
    private static final int MAX_CHUNK = 4096;

    private static final List<ChunkData> CHUNKS = List.of(MessagesTest.chunk(40, 1), MessagesTest.chunk(0, 2),
            MessagesTest.chunk(7, 3));
    private static final List<ChunkId> IDS = CHUNKS.stream().map(ChunkData::id).toList();

    private static List<ByteBuffer> validFrames() {
        List<ByteBuffer> frames = new ArrayList<>();
        ByteBuffer payload = MessagesTest.concat(CHUNKS);
        frames.add(Frame.response(MessageType.CLUSTER_INFO, 1, new Messages.ClusterInfo("a", 3, 2, 2, List.of(
                new Messages.Peer("a", "h1", 7400, 7600), new Messages.Peer("b", "h2", 7401, 7601))).encode(), null)
                .encode(MAX_FRAME));
        frames.add(Frame.request(MessageType.HAS_CHUNKS, 2, ChunkMessages.encodeIds(IDS), null).encode(MAX_FRAME));
        frames.add(Frame.response(MessageType.HAS_CHUNKS, 2, ChunkMessages.encodePresence(new int[] {4096, ChunkMessages.ABSENT, 17}), null)
                .encode(MAX_FRAME));
        frames.add(Frame.request(MessageType.PUT_CHUNKS, 3, ChunkMessages.encodeChunkHeader(CHUNKS), payload).encode(MAX_FRAME));
        List<dev.cairn.engine.ChunkPack> packs = MessagesTest.packs(2, 5);
        frames.add(Frame.request(MessageType.PUT_PACKS, 10, ChunkMessages.encodePackHeader(packs), MessagesTest.frames(packs))
                .encode(MAX_FRAME));
        frames.add(Frame.response(MessageType.GET_CHUNKS, 4, ChunkMessages.encodeFetched(IDS, Arrays.asList(CHUNKS.get(0), null, CHUNKS.get(2)),
                List.of(ChunkStatus.OK, ChunkStatus.MISSING, ChunkStatus.OK)),
                MessagesTest.concat(List.of(CHUNKS.get(0), CHUNKS.get(2)))).encode(MAX_FRAME));
        frames.add(Frame.request(MessageType.COMMIT_IMAGE, 5,
                new ImageMessages.CommitImage(new ImageName("job/ckpt.1"), MessagesTest.root(1)).encode(), null).encode(MAX_FRAME));
        frames.add(Frame.request(MessageType.GET_IMAGE, 6, ImageMessages.encodeName(new ImageName("job/ckpt.1")), null).encode(MAX_FRAME));
        frames.add(Frame.response(MessageType.COMMIT_IMAGE, 5, Messages.encodeLong(77), null).encode(MAX_FRAME));
        frames.add(Frame.request(MessageType.LIST_IMAGES, 7, new ImageMessages.ListImages("job/", 10).encode(), null).encode(MAX_FRAME));
        frames.add(Frame.response(MessageType.LIST_IMAGES, 7, ImageMessages.encodeImages(List.of(
                new ImageInfo(new ImageName("job/a"), MessagesTest.root(1), 3),
                new ImageInfo(new ImageName("job/b"), MessagesTest.root(2), 4))), null).encode(MAX_FRAME));
        frames.add(Frame.response(MessageType.NODE_STATUS, 8,
                new Messages.NodeStatus("a", "LEADER", 2, "a", 10, 9, 8, 7).encode(), null).encode(MAX_FRAME));
        frames.add(Frame.response(MessageType.ERROR, 9, new Messages.Error(ErrorCode.UNAVAILABLE, "no quorum").encode(), null)
                .encode(MAX_FRAME));
        return frames;
    }

    private static byte[] mutate(byte[] valid, Random random) {
        byte[] b = valid.clone();
        switch (random.nextInt(6)) {
            case 0 -> { // flip bits
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> { // overwrite a few bytes with random values
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                }
            }
            case 2 -> { // plant an extreme 32-bit value where a length or count might be
                int at = random.nextInt(b.length - 3);
                int[] extremes = {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 1, 0xffff, 0x10000, MAX_CHUNK + 1};
                ByteBuffer.wrap(b).putInt(at, extremes[random.nextInt(extremes.length)]);
            }
            case 3 -> { // truncate, then fix the length field so the body is what is cut
                int length = 4 + random.nextInt(b.length - 4);
                b = Arrays.copyOf(b, length);
                ByteBuffer.wrap(b).putInt(0, length - 4);
            }
            case 4 -> { // append random bytes and fix the length field
                int extra = 1 + random.nextInt(16);
                byte[] longer = Arrays.copyOf(b, b.length + extra);
                for (int i = b.length; i < longer.length; i++) {
                    longer[i] = (byte) random.nextInt(256);
                }
                ByteBuffer.wrap(longer).putInt(0, longer.length - 4);
                b = longer;
            }
            default -> { // flip bits inside the header only, keeping the frame well formed
                int headerAt = Frame.LENGTH_FIELD_BYTES + Frame.FIXED_BYTES;
                if (b.length > headerAt) {
                    b[headerAt + random.nextInt(b.length - headerAt)] ^= (byte) (1 << random.nextInt(8));
                }
            }
        }
        return b;
    }

    /** Feeds the frame's header and payload to every decoder, whatever the frame's type says. */
    private static void decodeEverything(byte[] wire) {
        Frame frame = Frame.decode(ByteBuffer.wrap(wire), MAX_FRAME);
        ByteBuffer h = frame.header();
        ByteBuffer p = frame.payload();
        List<Runnable> decoders = List.of(
                () -> Messages.ClusterInfo.decode(h),
                () -> ChunkMessages.decodeIds(h),
                () -> ChunkMessages.decodePresence(h),
                () -> ChunkMessages.decodeChunks(h, p, MAX_CHUNK),
                () -> ChunkMessages.decodePacks(h, p, MAX_CHUNK),
                () -> ChunkMessages.decodeFetched(IDS, h, p, MAX_CHUNK),
                () -> ImageMessages.CommitImage.decode(h),
                () -> ImageMessages.decodeName(h),
                () -> Messages.decodeLong(h),
                () -> ImageMessages.ListImages.decode(h),
                () -> ImageMessages.decodeImages(h),
                () -> Messages.NodeStatus.decode(h),
                () -> Messages.Error.decode(h));
        for (Runnable decoder : decoders) {
            try {
                decoder.run();
            } catch (ProtocolException | IllegalArgumentException expected) {
                // refused: ProtocolException, ImageName.InvalidNameException or another IllegalArgumentException
            }
        }
    }

    @Test
    void mutatedFramesAreDecodedOrRefusedButNeverCrashTheDecoder() {
        Random random = new Random(SEED);
        List<ByteBuffer> frames = validFrames();
        for (ByteBuffer frame : frames) {
            byte[] b = new byte[frame.remaining()];
            frame.duplicate().get(b);
            decodeEverything(b); // the valid frames themselves go through every decoder
        }
        for (int round = 0; round < ROUNDS; round++) {
            ByteBuffer valid = frames.get(random.nextInt(frames.size()));
            byte[] bytes = new byte[valid.remaining()];
            valid.duplicate().get(bytes);
            byte[] mutated = mutate(bytes, random);
            try {
                decodeEverything(mutated);
            } catch (ProtocolException | IllegalArgumentException refused) {
                // Frame.decode refused it
            } catch (Throwable t) {
                fail("round " + round + " of seed " + SEED + ": " + t + " on " + java.util.HexFormat.of().formatHex(mutated), t);
            }
        }
    }
}
