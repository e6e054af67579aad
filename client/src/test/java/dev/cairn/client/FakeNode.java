package dev.cairn.client;

import dev.cairn.protocol.ChunkMessages;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a node on a loopback socket, for client tests without a server: answers
 * CLUSTER_INFO with the cluster it is given, HAS_CHUNKS, PUT_CHUNKS, PUT_PACKS and GET_CHUNKS from
 * a map of chunks, and records what it was sent. It checks what a real node checks before
 * storing (every chunk and pack verifies) and answers at once: there is no disk to fsync.
 */
final class FakeNode implements AutoCloseable {

    private static final int MAX_FRAME = 16 * 1024 * 1024;

    final String id;
    private final ServerSocket socket;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private volatile Messages.ClusterInfo info;
    /** What the node holds: for a packed chunk, the member as a RAW chunk (what GET_CHUNKS answers). */
    final Map<ChunkId, ChunkData> chunks = new ConcurrentHashMap<>();
    /** Stored length HAS_CHUNKS reports per chunk. */
    final Map<ChunkId, Integer> storedLengths = new ConcurrentHashMap<>();
    final List<ChunkData> putChunks = new CopyOnWriteArrayList<>();
    final List<ChunkPack> putPacks = new CopyOnWriteArrayList<>();
    /** When set, PUT_PACKS is answered with this error. */
    volatile ErrorCode failPacks;

    FakeNode(String id) throws IOException {
        this.id = id;
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "fake-node-" + id);
        accept.setDaemon(true);
        accept.start();
    }

    Messages.Peer peer() {
        return new Messages.Peer(id, "127.0.0.1", socket.getLocalPort(), 0);
    }

    String endpoint() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    void serve(Messages.ClusterInfo cluster) {
        List<Messages.Peer> peers = cluster.nodes();
        this.info = new Messages.ClusterInfo(id, cluster.replicas(), cluster.writeQuorum(), cluster.readQuorum(), peers);
    }

    /** Holds {@code chunk} as if stored earlier, encoded as it is. */
    void hold(ChunkData chunk) {
        chunks.put(chunk.id(), chunk);
        storedLengths.put(chunk.id(), chunk.storedLength());
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                connections.add(s);
                Thread t = new Thread(() -> serve(s), "fake-node-" + id + "-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; DataInputStream in = new DataInputStream(s.getInputStream())) {
            OutputStream out = s.getOutputStream();
            while (true) {
                byte[] body = new byte[in.readInt()];
                in.readFully(body);
                Frame request = Frame.decodeBody(ByteBuffer.wrap(body), MAX_FRAME);
                Frame reply;
                try {
                    reply = answer(request);
                } catch (RuntimeException e) {
                    reply = Frame.response(MessageType.ERROR, request.requestId(),
                            new Messages.Error(ErrorCode.BAD_REQUEST, String.valueOf(e)).encode(), null);
                }
                ByteBuffer bytes = reply.encode(MAX_FRAME);
                out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
                out.flush();
            }
        } catch (IOException e) {
            // the client closed the connection
        }
    }

    private Frame answer(Frame request) {
        MessageType type = request.type();
        long rid = request.requestId();
        ByteBuffer empty = ByteBuffer.allocate(0);
        switch (type) {
            case CLUSTER_INFO:
                return Frame.response(type, rid, info.encode(), null);
            case HAS_CHUNKS: {
                List<ChunkId> ids = ChunkMessages.decodeIds(request.header());
                int[] lengths = new int[ids.size()];
                for (int i = 0; i < lengths.length; i++) {
                    lengths[i] = storedLengths.getOrDefault(ids.get(i), ChunkMessages.ABSENT);
                }
                return Frame.response(type, rid, ChunkMessages.encodePresence(lengths), null);
            }
            case PUT_CHUNKS: {
                for (ChunkData c : ChunkMessages.decodeChunks(request.header(), request.payload(), MAX_FRAME)) {
                    if (!c.verify()) {
                        throw new IllegalArgumentException("chunk " + c.id().shortHex() + " does not verify");
                    }
                    putChunks.add(c);
                    hold(c);
                }
                return Frame.response(type, rid, empty, null);
            }
            case PUT_PACKS: {
                if (failPacks != null) {
                    return Frame.response(MessageType.ERROR, rid, new Messages.Error(failPacks, "packs refused").encode(), null);
                }
                for (ChunkPack p : ChunkMessages.decodePacks(request.header(), request.payload(), MAX_FRAME)) {
                    if (!p.verify()) {
                        throw new IllegalArgumentException("a pack does not verify");
                    }
                    putPacks.add(p);
                    byte[] decoded = p.decode();
                    for (int slot = 0; slot < p.members().size(); slot++) {
                        ChunkData member = p.member(slot, decoded);
                        chunks.put(member.id(), member);
                        storedLengths.put(member.id(), p.storedShare(slot));
                    }
                }
                return Frame.response(type, rid, empty, null);
            }
            case GET_CHUNKS: {
                List<ChunkId> ids = ChunkMessages.decodeIds(request.header());
                List<ChunkData> found = new ArrayList<>();
                List<ChunkMessages.ChunkStatus> status = new ArrayList<>();
                int bytes = 0;
                for (ChunkId id : ids) {
                    ChunkData c = chunks.get(id);
                    found.add(c);
                    status.add(c == null ? ChunkMessages.ChunkStatus.MISSING : ChunkMessages.ChunkStatus.OK);
                    bytes += c == null ? 0 : c.storedLength();
                }
                ByteBuffer payload = ByteBuffer.allocate(bytes);
                found.forEach(c -> {
                    if (c != null) {
                        payload.put(c.bytes().duplicate());
                    }
                });
                return Frame.response(type, rid, ChunkMessages.encodeFetched(ids, found, status), payload.flip());
            }
            default:
                throw new IllegalArgumentException("a fake node does not answer " + type);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        for (Socket s : connections) {
            s.close();
        }
    }
}
