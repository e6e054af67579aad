package dev.cairn.it;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.ChunkMessages;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.cairn.client.CairnClient;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throws thousands of random and mutated protocol frames and HTTP requests at a real node, then
 * checks that it still serves puts and gets, and that once it is closed no buffer of the network
 * pool is left in use. The seed is printed in every failure.
 */
class PortFuzzTest {

    static final long SEED = Long.getLong("cairn.seed", System.nanoTime());
    static final int PROTOCOL_CASES = 1500;
    static final int HTTP_CASES = 500;

    @TempDir
    Path dir;

    @Test
    void aNodeSurvivesGarbageOnBothPortsAndStillServes() throws Exception {
        Random random = new Random(SEED);
        long pooledBefore = WireAllocatorTest.activeAllocations();
        try (TestCluster cluster = TestCluster.start(1, dir); CairnClient client = cluster.client()) {
            NodeAddress node = cluster.config(0).self();
            List<byte[]> valid = validFrames();
            // Each case has its own generator derived from the seed, so the run is reproducible
            // although the cases go out from several threads at once.
            java.util.concurrent.ExecutorService senders = java.util.concurrent.Executors.newFixedThreadPool(8);
            List<java.util.concurrent.Future<?>> cases = new ArrayList<>();
            for (int i = 0; i < PROTOCOL_CASES + HTTP_CASES; i++) {
                int index = i;
                cases.add(senders.submit(() -> {
                    Random r = new Random(SEED * 31 + index);
                    boolean protocol = index < PROTOCOL_CASES;
                    send(node.host(), protocol ? node.port() : node.httpPort(),
                            protocol ? protocolCase(r, valid) : httpCase(r), r.nextInt(4) == 0);
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : cases) {
                f.get();
            }
            senders.shutdown();
            byte[] data = new byte[1_000_000];
            random.nextBytes(data);
            client.put("after/fuzz", new ByteArrayInputStream(data));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            client.get("after/fuzz", out);
            assertArrayEquals(data, out.toByteArray(), "seed " + SEED);
        }
        // Broken, truncated and oversized frames, and connections dropped mid-frame, give back
        // every pooled buffer they took: a pooled buffer never released is never freed.
        WireAllocatorTest.assertAllReturned(pooledBefore);
    }

    private static List<byte[]> validFrames() {
        List<byte[]> frames = new ArrayList<>();
        int max = Limits.DEFAULT_MAX_FRAME_BYTES;
        ChunkData chunk = ChunkData.raw("fuzz".getBytes(StandardCharsets.UTF_8));
        frames.add(bytes(Frame.request(MessageType.CLUSTER_INFO, 1, null, null).encode(max)));
        frames.add(bytes(Frame.request(MessageType.HAS_CHUNKS, 2, ChunkMessages.encodeIds(List.of(chunk.id())), null).encode(max)));
        frames.add(bytes(Frame.request(MessageType.PUT_CHUNKS, 3, ChunkMessages.encodeChunkHeader(List.of(chunk)), chunk.bytes()).encode(max)));
        frames.add(bytes(Frame.request(MessageType.GET_CHUNKS, 4, ChunkMessages.encodeIds(List.of(chunk.id())), null).encode(max)));
        frames.add(bytes(Frame.request(MessageType.LIST_IMAGES, 5, new ImageMessages.ListImages("", 10).encode(), null).encode(max)));
        frames.add(bytes(Frame.request(MessageType.GET_IMAGE, 6, ImageMessages.encodeName(new ImageName("x/y")), null).encode(max)));
        frames.add(bytes(Frame.request(MessageType.COMMIT_IMAGE, 7, new ImageMessages.CommitImage(new ImageName("fuzz/never"),
                new ImageRoot(ChunkId.of(new byte[] {9}), 1, 1, 1, 1, 1)).encode(), null).encode(max)));
        return frames;
    }

    private static byte[] protocolCase(Random random, List<byte[]> valid) {
        byte[] base = valid.get(random.nextInt(valid.size())).clone();
        switch (random.nextInt(6)) {
            case 0 -> { // pure noise
                byte[] noise = new byte[1 + random.nextInt(2048)];
                random.nextBytes(noise);
                return noise;
            }
            case 1 -> { // truncated
                return java.util.Arrays.copyOf(base, random.nextInt(base.length));
            }
            case 2 -> { // a huge or negative declared length
                ByteBuffer.wrap(base).putInt(0, random.nextBoolean() ? Integer.MAX_VALUE : -random.nextInt(1000) - 1);
                return base;
            }
            case 3 -> { // flipped bytes after the length field (the frame stays whole)
                for (int k = 0; k < 1 + random.nextInt(8); k++) {
                    int at = 4 + random.nextInt(base.length - 4);
                    base[at] ^= (byte) (1 + random.nextInt(255));
                }
                return base;
            }
            case 4 -> { // several frames back to back, one of them broken
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(base);
                byte[] other = valid.get(random.nextInt(valid.size())).clone();
                other[4 + random.nextInt(other.length - 4)] ^= 0x55;
                out.writeBytes(other);
                out.writeBytes(base);
                return out.toByteArray();
            }
            default -> { // a valid frame (the node must keep answering those)
                return base;
            }
        }
    }

    private static byte[] httpCase(Random random) {
        String[] requests = {
            "GET /v1/images/%s HTTP/1.1\r\nHost: x\r\n\r\n",
            "PUT /v1/images/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabc",
            "DELETE /v1/images/%s HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v1/images?prefix=%s HTTP/1.1\r\nHost: x\r\n\r\n",
            "BREW /%s HTTP/1.1\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nX: %s\r\n\r\n",
            "PUT /v1/images/%s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n",
        };
        String name = random.nextBoolean() ? "fuzz/" + random.nextInt(1000) : randomText(random, 1 + random.nextInt(300));
        String text = String.format(requests[random.nextInt(requests.length)], name);
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        if (random.nextInt(3) == 0) {
            bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
        if (random.nextInt(10) == 0) {
            byte[] huge = new byte[40_000];
            java.util.Arrays.fill(huge, (byte) 'a');
            return ("GET /" + new String(huge, StandardCharsets.ISO_8859_1) + " HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        }
        return bytes;
    }

    private static String randomText(Random random, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append((char) (33 + random.nextInt(94)));
        }
        return sb.toString();
    }

    /** Sends the bytes, reads whatever comes back for a moment, and closes (or half-closes first). */
    private static void send(String host, int port, byte[] bytes, boolean halfClose) throws IOException {
        try (Socket socket = new Socket(host, port)) {
            socket.setSoTimeout(100);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(bytes);
                out.flush();
                if (halfClose) {
                    socket.shutdownOutput();
                }
            } catch (IOException e) {
                return; // the node closed first: fine
            }
            InputStream in = socket.getInputStream();
            byte[] sink = new byte[8192];
            try {
                while (in.read(sink) >= 0) {
                    // drain until the node closes or goes quiet
                }
            } catch (IOException e) {
                // quiet or reset: both fine, the node decides
            }
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}
