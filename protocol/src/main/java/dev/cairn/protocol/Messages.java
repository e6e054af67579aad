package dev.cairn.protocol;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The header messages of every frame type, each with its encoding. Chunk bytes never go into a
 * header: they travel as the frame's payload, in the order the header lists them.
 */
public final class Messages {

    private Messages() {}

    /**
     * One node as clients see it: where it listens, its zone ("" for none) and whether it is an
     * active placement target or leaving the cluster (still readable, no longer a target).
     */
    public record Peer(String id, String host, int port, int httpPort, String zone, MembershipMessages.MemberState state) {
        public Peer {
            zone = zone == null ? "" : zone;
            java.util.Objects.requireNonNull(state, "state");
        }

        public Peer(String id, String host, int port, int httpPort) {
            this(id, host, port, httpPort, "", MembershipMessages.MemberState.ACTIVE);
        }

        void write(WireWriter w) {
            w.string(id).string(host).i32(port).i32(httpPort);
        }

        static Peer read(WireReader r) {
            return new Peer(r.string("peer id"), r.string("peer host"), r.i32("peer port"), r.i32("peer http port"));
        }

        public String endpoint() {
            return host + ":" + port;
        }

        public boolean active() {
            return state == MembershipMessages.MemberState.ACTIVE;
        }
    }

    /**
     * CLUSTER_INFO response: the answering node, the quorums and every member node.
     * {@code membershipIndex} is the Raft log index of the membership the node answered from (0
     * when its catalog holds none yet and it answered from its config).
     *
     * <p>Zones, states and the membership index travel in a trailing section after the node
     * list, so that an answer from a node built before membership changes still decodes (as
     * zone-less, all active, index 0).
     */
    public record ClusterInfo(String nodeId, int replicas, int writeQuorum, int readQuorum, List<Peer> nodes,
                              long membershipIndex) {
        public ClusterInfo {
            nodes = List.copyOf(nodes);
        }

        public ClusterInfo(String nodeId, int replicas, int writeQuorum, int readQuorum, List<Peer> nodes) {
            this(nodeId, replicas, writeQuorum, readQuorum, nodes, 0);
        }

        /** The nodes that are placement targets. */
        public List<Peer> activeNodes() {
            return nodes.stream().filter(Peer::active).toList();
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter().string(nodeId).i32(replicas).i32(writeQuorum).i32(readQuorum).i32(nodes.size());
            nodes.forEach(p -> p.write(w));
            w.u8(MEMBERSHIP_SECTION).i64(membershipIndex);
            nodes.forEach(p -> w.string(p.zone()).u8(p.state().ordinal()));
            return w.toBuffer();
        }

        public static ClusterInfo decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            String nodeId = r.string("node id");
            int n = r.i32("replicas");
            int wq = r.i32("write quorum");
            int rq = r.i32("read quorum");
            int count = r.count("nodes", 12);
            List<Peer> nodes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                nodes.add(Peer.read(r));
            }
            long membershipIndex = 0;
            if (r.remaining() > 0) {
                int section = r.u8("cluster info section");
                if (section != MEMBERSHIP_SECTION) {
                    throw new ProtocolException("unknown cluster info section " + section);
                }
                membershipIndex = r.i64("membership index");
                for (int i = 0; i < count; i++) {
                    Peer p = nodes.get(i);
                    nodes.set(i, new Peer(p.id(), p.host(), p.port(), p.httpPort(), r.string("peer zone"),
                            MembershipMessages.MemberState.of(r.u8("peer state"))));
                }
            }
            r.end("cluster info");
            return new ClusterInfo(nodeId, n, wq, rq, nodes, membershipIndex);
        }
    }

    private static final int MEMBERSHIP_SECTION = 1;

    /** HAS_CHUNKS and GET_CHUNKS requests: a list of chunk ids. */
    public static ByteBuffer encodeIds(List<ChunkId> ids) {
        WireWriter w = new WireWriter(4 + ids.size() * ChunkId.LENGTH_BYTES).i32(ids.size());
        ids.forEach(w::id);
        return w.toBuffer();
    }

    public static List<ChunkId> decodeIds(ByteBuffer header) {
        WireReader r = new WireReader(header);
        int count = r.count("chunk ids", ChunkId.LENGTH_BYTES);
        List<ChunkId> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(r.id("chunk id"));
        }
        r.end("chunk id list");
        return ids;
    }

    /** In a HAS_CHUNKS response: the node holds no durable copy of the chunk. */
    public static final int ABSENT = -1;

    /**
     * HAS_CHUNKS response: per asked id, the encoded length of the node's durable copy, or
     * {@link #ABSENT}. The length lets a client that skips a chunk still account for what the
     * image occupies without encoding the chunk itself.
     */
    public static ByteBuffer encodePresence(int[] storedLengths) {
        WireWriter w = new WireWriter(4 + 4 * storedLengths.length).i32(storedLengths.length);
        for (int length : storedLengths) {
            w.i32(length);
        }
        return w.toBuffer();
    }

    public static int[] decodePresence(ByteBuffer header) {
        WireReader r = new WireReader(header);
        int count = r.count("presence entries", 4);
        int[] storedLengths = new int[count];
        for (int i = 0; i < count; i++) {
            int length = r.i32("stored length");
            if (length < ABSENT) {
                throw new ProtocolException("presence entry " + i + " has stored length " + length);
            }
            storedLengths[i] = length;
        }
        r.end("presence list");
        return storedLengths;
    }

    /** Status of one chunk in a GET_CHUNKS response. */
    public enum ChunkStatus { OK, MISSING, CORRUPT }

    private static final int CHUNK_ENTRY_BYTES = ChunkId.LENGTH_BYTES + 1 + 4 + 4;

    /**
     * PUT_CHUNKS request header: per chunk its id, codec, raw length and stored length; the
     * payload is the chunks' stored bytes back to back.
     */
    public static ByteBuffer encodeChunkHeader(List<ChunkData> chunks) {
        WireWriter w = new WireWriter(4 + chunks.size() * CHUNK_ENTRY_BYTES).i32(chunks.size());
        for (ChunkData c : chunks) {
            w.id(c.id()).u8(c.codec().code()).i32(c.rawLength()).i32(c.storedLength());
        }
        return w.toBuffer();
    }

    /** Splits a PUT_CHUNKS frame into chunks whose bytes are views of the payload. */
    public static List<ChunkData> decodeChunks(ByteBuffer header, ByteBuffer payload, int maxChunkBytes) {
        WireReader r = new WireReader(header);
        int count = r.count("chunks", CHUNK_ENTRY_BYTES);
        List<ChunkData> chunks = new ArrayList<>(count);
        int offset = payload.position();
        for (int i = 0; i < count; i++) {
            ChunkId id = r.id("chunk id");
            ChunkCodec codec = codec(r.u8("codec"));
            int rawLength = r.i32("raw length");
            int storedLength = r.i32("stored length");
            checkLength(rawLength, maxChunkBytes, id);
            checkLength(storedLength, maxChunkBytes, id);
            if (offset + storedLength > payload.limit()) {
                throw new ProtocolException("chunk " + id.shortHex() + " runs past the end of the frame payload");
            }
            chunks.add(new ChunkData(id, codec, rawLength, payload.slice(offset, storedLength)));
            offset += storedLength;
        }
        r.end("chunk list");
        if (offset != payload.limit()) {
            throw new ProtocolException("frame payload has " + (payload.limit() - offset) + " bytes no chunk claims");
        }
        return chunks;
    }

    private static final int PACK_MEMBER_BYTES = ChunkId.LENGTH_BYTES + 4;
    /** The least a pack takes in a PUT_PACKS header: its member count, one member, its stored length. */
    private static final int MIN_PACK_ENTRY_BYTES = 2 + PACK_MEMBER_BYTES + 4;

    /**
     * PUT_PACKS request header: per pack its member count, per member its id and raw length, then
     * the pack's stored length (its frame's); the payload is the packs' frames back to back.
     */
    public static ByteBuffer encodePackHeader(List<ChunkPack> packs) {
        int members = 0;
        for (ChunkPack p : packs) {
            members += p.members().size();
        }
        WireWriter w = new WireWriter(4 + packs.size() * 6 + members * PACK_MEMBER_BYTES).i32(packs.size());
        for (ChunkPack p : packs) {
            w.u16(p.members().size());
            for (ChunkPack.Member m : p.members()) {
                w.id(m.id()).i32(m.rawLength());
            }
            w.i32(p.storedLength());
        }
        return w.toBuffer();
    }

    /**
     * Splits a PUT_PACKS frame into packs whose frames are views of the payload. Checks the
     * limits of {@link ChunkPack} and that the frames tile the payload; does not decode them
     * (the store verifies each pack before it keeps it).
     */
    public static List<ChunkPack> decodePacks(ByteBuffer header, ByteBuffer payload, int maxChunkBytes) {
        WireReader r = new WireReader(header);
        int count = r.count("packs", MIN_PACK_ENTRY_BYTES);
        List<ChunkPack> packs = new ArrayList<>(count);
        int offset = payload.position();
        for (int i = 0; i < count; i++) {
            int memberCount = r.u16("pack member count");
            if (memberCount == 0 || memberCount > ChunkPack.MAX_MEMBERS) {
                throw new ProtocolException("pack " + i + " has " + memberCount + " members, not 1.." + ChunkPack.MAX_MEMBERS);
            }
            if (memberCount * PACK_MEMBER_BYTES + 4 > r.remaining()) {
                throw new ProtocolException("count " + memberCount + " of pack " + i + "'s members does not fit in the "
                        + r.remaining() + " bytes left");
            }
            List<ChunkPack.Member> members = new ArrayList<>(memberCount);
            java.util.Set<ChunkId> ids = new java.util.HashSet<>(2 * memberCount);
            for (int k = 0; k < memberCount; k++) {
                ChunkId id = r.id("pack member id");
                // A member twice would be stored once and cost its bytes twice: no writer makes one.
                if (!ids.add(id)) {
                    throw new ProtocolException("pack " + i + " names member " + id.shortHex() + " twice");
                }
                int rawLength = r.i32("pack member raw length");
                if (rawLength < 1 || rawLength > ChunkPack.MAX_MEMBER_BYTES) {
                    throw new ProtocolException("pack member " + id.shortHex() + " raw length " + rawLength
                            + " is outside 1.." + ChunkPack.MAX_MEMBER_BYTES);
                }
                members.add(new ChunkPack.Member(id, rawLength));
            }
            int storedLength = r.i32("pack stored length");
            // No zstd frame is empty.
            if (storedLength < 1 || storedLength > maxChunkBytes) {
                throw new ProtocolException("pack " + i + " from " + members.get(0).id().shortHex() + " stored length "
                        + storedLength + " is outside 1.." + maxChunkBytes);
            }
            if (offset + storedLength > payload.limit()) {
                throw new ProtocolException("pack " + i + " from " + members.get(0).id().shortHex()
                        + " runs past the end of the frame payload");
            }
            try {
                packs.add(new ChunkPack(members, payload.slice(offset, storedLength)));
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("pack " + i + " from " + members.get(0).id().shortHex() + ": " + e.getMessage());
            }
            offset += storedLength;
        }
        r.end("pack list");
        if (offset != payload.limit()) {
            throw new ProtocolException("frame payload has " + (payload.limit() - offset) + " bytes no pack claims");
        }
        return packs;
    }

    /** GET_CHUNKS response header: per asked id its status, codec, raw and stored length. */
    public static ByteBuffer encodeFetched(List<ChunkId> ids, List<ChunkData> found, List<ChunkStatus> status) {
        WireWriter w = new WireWriter(4 + ids.size() * CHUNK_ENTRY_BYTES).i32(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            ChunkData c = found.get(i);
            w.u8(status.get(i).ordinal());
            if (c == null) {
                w.u8(0).i32(0).i32(0);
            } else {
                w.u8(c.codec().code()).i32(c.rawLength()).i32(c.storedLength());
            }
        }
        return w.toBuffer();
    }

    /** One entry of a GET_CHUNKS response; {@code data} is null unless the status is OK. */
    public record Fetched(ChunkStatus status, ChunkData data) {}

    public static List<Fetched> decodeFetched(List<ChunkId> asked, ByteBuffer header, ByteBuffer payload, int maxChunkBytes) {
        WireReader r = new WireReader(header);
        int count = r.count("fetched chunks", 10);
        if (count != asked.size()) {
            throw new ProtocolException("asked for " + asked.size() + " chunks, the answer lists " + count);
        }
        List<Fetched> result = new ArrayList<>(count);
        int offset = payload.position();
        for (int i = 0; i < count; i++) {
            int s = r.u8("chunk status");
            if (s >= ChunkStatus.values().length) {
                throw new ProtocolException("unknown chunk status " + s);
            }
            ChunkStatus status = ChunkStatus.values()[s];
            ChunkCodec codec = codec(r.u8("codec"));
            int rawLength = r.i32("raw length");
            int storedLength = r.i32("stored length");
            if (status != ChunkStatus.OK) {
                result.add(new Fetched(status, null));
                continue;
            }
            checkLength(rawLength, maxChunkBytes, asked.get(i));
            checkLength(storedLength, maxChunkBytes, asked.get(i));
            if (offset + storedLength > payload.limit()) {
                throw new ProtocolException("chunk " + asked.get(i).shortHex() + " runs past the end of the frame payload");
            }
            result.add(new Fetched(status, new ChunkData(asked.get(i), codec, rawLength, payload.slice(offset, storedLength))));
            offset += storedLength;
        }
        r.end("fetched chunk list");
        return result;
    }

    /**
     * Who made a mutating call: a client's random id and its call counter. A retry carries the
     * same pair, so the catalog applies the call once and answers the retry with the first result.
     */
    public record CallId(java.util.UUID clientId, long callId) {
        void write(WireWriter w) {
            w.i64(clientId.getMostSignificantBits()).i64(clientId.getLeastSignificantBits()).i64(callId);
        }

        static CallId read(WireReader r) {
            return new CallId(new java.util.UUID(r.i64("client id"), r.i64("client id")), r.i64("call id"));
        }
    }

    private static void writeCall(WireWriter w, CallId call) {
        if (call == null) {
            w.u8(0);
        } else {
            w.u8(1);
            call.write(w);
        }
    }

    private static CallId readCall(WireReader r) {
        int present = r.u8("call flag");
        if (present > 1) {
            throw new ProtocolException("bad call flag " + present);
        }
        return present == 1 ? CallId.read(r) : null;
    }

    /**
     * COMMIT_IMAGE request; {@code call} is null for a caller that does not retry, {@code session}
     * the upload session whose chunks the image references (null only before the first GC epoch).
     * The session is a trailing optional field, so an older client's request still decodes;
     * {@code newStoredBytes} (the put's figure for the node's dedup metrics, or {@link #UNKNOWN})
     * is another, and {@code closesSession} (the commit ends the session, so the client sends no
     * CLOSE_SESSION after it succeeds) a third, present only when true.
     */
    public record CommitImage(ImageName name, ImageRoot root, CallId call, java.util.UUID session, long newStoredBytes,
                              boolean closesSession) {
        /** Tag of the optional session field after the call id. */
        private static final int SESSION_FIELD = 1;
        /** Tag of the optional put figure: encoded bytes of the chunks the put had to send (once, not per replica). */
        private static final int NEW_BYTES_FIELD = 2;
        /** Tag of the flag that the commit, if it succeeds, closes the session; a tag with no value. */
        private static final int CLOSES_SESSION_FIELD = 3;
        /** {@link #newStoredBytes} of a commit whose client did not say (older clients, tests). */
        public static final long UNKNOWN = -1;

        public CommitImage {
            if (closesSession && session == null) {
                throw new IllegalArgumentException("a commit without a session cannot close one");
            }
        }

        public CommitImage(ImageName name, ImageRoot root, CallId call, java.util.UUID session, long newStoredBytes) {
            this(name, root, call, session, newStoredBytes, false);
        }

        public CommitImage(ImageName name, ImageRoot root) {
            this(name, root, null, null, UNKNOWN);
        }

        public CommitImage(ImageName name, ImageRoot root, CallId call) {
            this(name, root, call, null, UNKNOWN);
        }

        public CommitImage(ImageName name, ImageRoot root, CallId call, java.util.UUID session) {
            this(name, root, call, session, UNKNOWN);
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(368).string(name.value()).bytes(root.encode());
            writeCall(w, call);
            if (session != null) {
                w.u8(SESSION_FIELD).i64(session.getMostSignificantBits()).i64(session.getLeastSignificantBits());
            }
            if (newStoredBytes >= 0) {
                w.u8(NEW_BYTES_FIELD).i64(newStoredBytes);
            }
            if (closesSession) {
                w.u8(CLOSES_SESSION_FIELD);
            }
            return w.toBuffer();
        }

        public static CommitImage decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            ImageName name = imageName(r.string("image name"));
            byte[] root = r.bytes("image root");
            CallId call = readCall(r);
            java.util.UUID session = null;
            long newBytes = UNKNOWN;
            boolean closes = false;
            // Optional tagged fields, in tag order; a node of an older build refuses what it does not know.
            int lastTag = 0;
            while (r.remaining() > 0) {
                int trailing = r.remaining();
                int tag = r.u8("field tag");
                if (tag <= lastTag || tag > CLOSES_SESSION_FIELD) {
                    throw new ProtocolException("commit request has " + trailing + " unexpected trailing bytes");
                }
                lastTag = tag;
                if (tag == SESSION_FIELD) {
                    session = new java.util.UUID(r.i64("session id"), r.i64("session id"));
                } else if (tag == CLOSES_SESSION_FIELD) {
                    if (session == null) {
                        throw new ProtocolException("commit request closes a session it does not name");
                    }
                    closes = true;
                } else {
                    newBytes = r.i64("new stored bytes");
                    if (newBytes < 0) {
                        throw new ProtocolException("commit request says the put sent " + newBytes + " new bytes");
                    }
                }
            }
            r.end("commit request");
            return new CommitImage(name, decodeRoot(root), call, session, newBytes, closes);
        }
    }

    /** DELETE_IMAGE request; {@code call} is null for a caller that does not retry. */
    public record DeleteImage(ImageName name, CallId call) {
        public ByteBuffer encode() {
            WireWriter w = new WireWriter(300).string(name.value());
            writeCall(w, call);
            return w.toBuffer();
        }

        public static DeleteImage decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            ImageName name = imageName(r.string("image name"));
            CallId call = readCall(r);
            r.end("delete request");
            return new DeleteImage(name, call);
        }
    }

    /** GET_IMAGE request: just a name. */
    public static ByteBuffer encodeName(ImageName name) {
        return new WireWriter(260).string(name.value()).toBuffer();
    }

    /** In a GET_IMAGE or LIST_IMAGES request: no session index, read linearizably through the leader. */
    public static final long LINEARIZABLE = -1;

    /**
     * GET_IMAGE request. With a {@code minIndex} (a session read) the node that receives it answers
     * from its own catalog replica once that has applied {@code minIndex}, and appends the index it
     * answered at; without one ({@link #LINEARIZABLE}) the read goes through the leader.
     */
    public record GetImage(ImageName name, long minIndex) {
        public ByteBuffer encode() {
            WireWriter w = new WireWriter(270).string(name.value());
            if (minIndex != LINEARIZABLE) {
                w.i64(minIndex);
            }
            return w.toBuffer();
        }

        public static GetImage decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            ImageName name = imageName(r.string("image name"));
            long minIndex = r.remaining() >= 8 ? sessionIndex(r) : LINEARIZABLE;
            r.end("get request");
            return new GetImage(name, minIndex);
        }
    }

    private static long sessionIndex(WireReader r) {
        long minIndex = r.i64("session index");
        if (minIndex < 0) {
            throw new ProtocolException("session index must not be negative, got " + minIndex);
        }
        return minIndex;
    }

    public static ImageName decodeName(ByteBuffer header) {
        WireReader r = new WireReader(header);
        ImageName name = imageName(r.string("image name"));
        r.end("name request");
        return name;
    }

    /** A response that is one number (a commit index). */
    public static ByteBuffer encodeLong(long value) {
        return new WireWriter(8).i64(value).toBuffer();
    }

    public static long decodeLong(ByteBuffer header) {
        WireReader r = new WireReader(header);
        long value = r.i64("number");
        r.end("number");
        return value;
    }

    /** LIST_IMAGES request; {@code minIndex} as in {@link GetImage}. */
    public record ListImages(String prefix, int limit, long minIndex) {
        public ListImages(String prefix, int limit) {
            this(prefix, limit, LINEARIZABLE);
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(310).string(prefix).i32(limit);
            if (minIndex != LINEARIZABLE) {
                w.i64(minIndex);
            }
            return w.toBuffer();
        }

        public static ListImages decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            String prefix = r.string("prefix");
            int limit = r.i32("limit");
            long minIndex = r.remaining() >= 8 ? sessionIndex(r) : LINEARIZABLE;
            r.end("list request");
            if (limit < 1) {
                throw new ProtocolException("list limit must be positive, got " + limit);
            }
            return new ListImages(prefix, limit, minIndex);
        }
    }

    /** GET_IMAGE and LIST_IMAGES responses: a list of catalog entries (zero or one for GET_IMAGE). */
    public static ByteBuffer encodeImages(List<ImageInfo> images) {
        return writeImages(new WireWriter(16 + images.size() * 160), images).toBuffer();
    }

    private static WireWriter writeImages(WireWriter w, List<ImageInfo> images) {
        w.i32(images.size());
        for (ImageInfo info : images) {
            w.string(info.name().value()).bytes(info.root().encode()).i64(info.commitIndex());
        }
        return w;
    }

    public static List<ImageInfo> decodeImages(ByteBuffer header) {
        WireReader r = new WireReader(header);
        List<ImageInfo> images = readImages(r);
        r.end("image list");
        return images;
    }

    /** The answer to a session read: the entries, then the catalog index the node answered at. */
    public record SessionImages(List<ImageInfo> images, long servedIndex) {
        public ByteBuffer encode() {
            return writeImages(new WireWriter(24 + images.size() * 160), images).i64(servedIndex).toBuffer();
        }

        public static SessionImages decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            List<ImageInfo> images = readImages(r);
            long served = r.i64("served index");
            r.end("session image list");
            return new SessionImages(images, served);
        }
    }

    private static List<ImageInfo> readImages(WireReader r) {
        int count = r.count("images", 2 + 4 + 8);
        List<ImageInfo> images = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ImageName name = imageName(r.string("image name"));
            ImageRoot root = decodeRoot(r.bytes("image root"));
            images.add(new ImageInfo(name, root, r.i64("commit index")));
        }
        return images;
    }

    /** NODE_STATUS response. */
    public record NodeStatus(String nodeId, String role, long term, String leaderId, long commitIndex,
                             long appliedIndex, long chunkCount, long storedBytes) {
        public ByteBuffer encode() {
            return new WireWriter(128).string(nodeId).string(role).i64(term).string(leaderId == null ? "" : leaderId)
                    .i64(commitIndex).i64(appliedIndex).i64(chunkCount).i64(storedBytes).toBuffer();
        }

        public static NodeStatus decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            NodeStatus s = new NodeStatus(r.string("node id"), r.string("role"), r.i64("term"), emptyToNull(r.string("leader")),
                    r.i64("commit index"), r.i64("applied index"), r.i64("chunk count"), r.i64("stored bytes"));
            r.end("node status");
            return s;
        }
    }

    /** ERROR response. */
    public record Error(ErrorCode code, String message) {
        public ByteBuffer encode() {
            String m = message == null ? "" : message;
            if (m.length() > 4000) {
                m = m.substring(0, 4000);
            }
            return new WireWriter(16 + m.length()).u8(code.code()).string(m).toBuffer();
        }

        public static Error decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            Error e = new Error(ErrorCode.fromCode(r.u8("error code")), r.string("error message"));
            r.end("error");
            return e;
        }
    }

    private static ChunkCodec codec(int code) {
        try {
            return ChunkCodec.fromCode(code);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(e.getMessage());
        }
    }

    private static void checkLength(int length, int max, ChunkId id) {
        if (length < 0 || length > max) {
            throw new ProtocolException("chunk " + id.shortHex() + " length " + length + " is outside 0.." + max);
        }
    }

    private static ImageRoot decodeRoot(byte[] bytes) {
        if (bytes.length > ImageRoot.ENCODED_LENGTH) {
            // ImageRoot.decode stops after its fields; bytes past them would otherwise pass unnoticed.
            throw new ProtocolException("image root has " + (bytes.length - ImageRoot.ENCODED_LENGTH)
                    + " unexpected trailing bytes");
        }
        try {
            return ImageRoot.decode(ByteBuffer.wrap(bytes));
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(e.getMessage());
        }
    }

    private static ImageName imageName(String value) {
        // An invalid name is the caller's error, reported as INVALID_NAME, not as a broken frame.
        return new ImageName(value);
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }
}
