package dev.cairn.it;

import dev.cairn.protocol.ChunkMessages;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.cairn.config.NodeAddress;
import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PUT_PACKS on a real node: members read back one by one through GET_CHUNKS; a lying pack is refused whole. */
class PutPacksTest {

    @TempDir
    Path dir;

    private static List<ChunkData> similarPages(long seed, int count) {
        Random random = new Random(seed);
        byte[] base = new byte[4096];
        random.nextBytes(base);
        List<ChunkData> pages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] page = base.clone();
            for (int k = 0; k < 64; k++) {
                page[random.nextInt(page.length)] = (byte) random.nextInt();
            }
            pages.add(ChunkData.raw(page));
        }
        return pages;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private static ByteBuffer payloadOf(List<ChunkPack> packs) {
        int n = packs.stream().mapToInt(ChunkPack::storedLength).sum();
        ByteBuffer payload = ByteBuffer.allocate(n);
        packs.forEach(p -> payload.put(p.frame().duplicate()));
        return payload.flip();
    }

    @Test
    void packedMembersReadBackAsChunksAndALyingPackIsRefused() throws Exception {
        List<ChunkData> pages = similarPages(1, 24);
        List<ChunkPack> packs;
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            packs = List.of(encoder.encodePack(pages.subList(0, 16)), encoder.encodePack(pages.subList(16, 24)));
        }
        packs.forEach(p -> assertNotNull(p));
        try (TestCluster cluster = TestCluster.start(1, dir)) {
            NodeAddress node = cluster.config(0).self();
            try (RawConnection connection = new RawConnection(node)) {

                connection.send(Frame.request(MessageType.PUT_PACKS, 1, ChunkMessages.encodePackHeader(packs), payloadOf(packs)));
                assertEquals(MessageType.PUT_PACKS, connection.read().type());

                List<ChunkId> ids = new ArrayList<>();
                pages.forEach(p -> ids.add(p.id()));
                connection.send(Frame.request(MessageType.GET_CHUNKS, 2, ChunkMessages.encodeIds(ids), null));
                Frame got = connection.read();
                List<ChunkMessages.Fetched> fetched = ChunkMessages.decodeFetched(ids, got.header(), got.payload(), RawConnection.MAX);
                for (int i = 0; i < pages.size(); i++) {
                    assertEquals(ChunkMessages.ChunkStatus.OK, fetched.get(i).status());
                    ChunkData member = fetched.get(i).data();
                    assertEquals(ChunkCodec.RAW, member.codec());
                    assertArrayEquals(bytes(pages.get(i).bytes()), bytes(member.bytes()));
                }

                // Two members swapped: the frame no longer hashes to the ids it claims.
                List<ChunkData> fresh = similarPages(2, 4);
                ChunkPack good;
                try (ChunkEncoder encoder = new ChunkEncoder()) {
                    good = encoder.encodePack(fresh);
                }
                List<ChunkPack.Member> swapped = new ArrayList<>(good.members());
                swapped.set(0, good.members().get(1));
                swapped.set(1, good.members().get(0));
                List<ChunkPack> lying = List.of(new ChunkPack(swapped, good.frame()));
                connection.send(Frame.request(MessageType.PUT_PACKS, 3, ChunkMessages.encodePackHeader(lying), payloadOf(lying)));
                Frame refused = connection.read();
                assertEquals(MessageType.ERROR, refused.type());
                assertEquals(ErrorCode.CORRUPT_CHUNK, Messages.Error.decode(refused.header()).code());

                List<ChunkId> freshIds = new ArrayList<>();
                fresh.forEach(p -> freshIds.add(p.id()));
                connection.send(Frame.request(MessageType.HAS_CHUNKS, 4, ChunkMessages.encodeIds(freshIds), null));
                int[] present = ChunkMessages.decodePresence(connection.read().header());
                for (int length : present) {
                    assertEquals(ChunkMessages.ABSENT, length, "nothing of a refused pack is stored");
                }
            }
        }
    }
}
