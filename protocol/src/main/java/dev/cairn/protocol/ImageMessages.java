package dev.cairn.protocol;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** The headers of the catalog frames: commit, delete, get and list images, and the calls' ids. */
public final class ImageMessages {

    private ImageMessages() {}

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
     * CLOSE_SESSION after it succeeds) a third, present only when true. {@code parent} (the image
     * an incremental dump was made on, its lineage; null for none) is a fourth, present only when set.
     */
    public record CommitImage(ImageName name, ImageRoot root, CallId call, java.util.UUID session, long newStoredBytes,
                              boolean closesSession, ImageName parent) {
        /** Tag of the optional session field after the call id. */
        private static final int SESSION_FIELD = 1;
        /** Tag of the optional put figure: encoded bytes of the chunks the put had to send (once, not per replica). */
        private static final int NEW_BYTES_FIELD = 2;
        /** Tag of the flag that the commit, if it succeeds, closes the session; a tag with no value. */
        private static final int CLOSES_SESSION_FIELD = 3;
        /** Tag of the optional parent image's name (a string). */
        private static final int PARENT_FIELD = 4;
        /** {@link #newStoredBytes} of a commit whose client did not say (older clients, tests). */
        public static final long UNKNOWN = -1;

        public CommitImage {
            if (closesSession && session == null) {
                throw new IllegalArgumentException("a commit without a session cannot close one");
            }
        }

        public CommitImage(ImageName name, ImageRoot root, CallId call, java.util.UUID session, long newStoredBytes,
                           boolean closesSession) {
            this(name, root, call, session, newStoredBytes, closesSession, null);
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
            if (parent != null) {
                w.u8(PARENT_FIELD).string(parent.value());
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
            ImageName parent = null;
            // Optional tagged fields, in tag order; a node of an older build refuses what it does not know.
            int lastTag = 0;
            while (r.remaining() > 0) {
                int trailing = r.remaining();
                int tag = r.u8("field tag");
                if (tag <= lastTag || tag > PARENT_FIELD) {
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
                } else if (tag == PARENT_FIELD) {
                    parent = imageName(r.string("parent image name"));
                } else {
                    newBytes = r.i64("new stored bytes");
                    if (newBytes < 0) {
                        throw new ProtocolException("commit request says the put sent " + newBytes + " new bytes");
                    }
                }
            }
            r.end("commit request");
            return new CommitImage(name, decodeRoot(root), call, session, newBytes, closes, parent);
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

    /**
     * GET_IMAGE and LIST_IMAGES responses: a list of catalog entries (zero or one for GET_IMAGE),
     * then, only when an image in it has a parent, the lineage section (see {@link #writeParents}).
     */
    public static ByteBuffer encodeImages(List<ImageInfo> images) {
        return writeParents(writeImages(new WireWriter(16 + images.size() * 160), images), images).toBuffer();
    }

    /** Tag of the optional lineage section at the end of an image list. */
    private static final int PARENTS_SECTION = 1;

    /**
     * The lineage section: u8 tag 1, then each image's parent (a string, "" for none) in list
     * order. Written only when an image has a parent, so answers without lineage are as before.
     */
    private static WireWriter writeParents(WireWriter w, List<ImageInfo> images) {
        if (images.stream().anyMatch(i -> i.parent() != null)) {
            w.u8(PARENTS_SECTION);
            for (ImageInfo info : images) {
                w.string(info.parent() == null ? "" : info.parent().value());
            }
        }
        return w;
    }

    private static List<ImageInfo> readParents(WireReader r, List<ImageInfo> images) {
        if (r.remaining() == 0) {
            return images;
        }
        int trailing = r.remaining();
        if (r.u8("lineage tag") != PARENTS_SECTION) {
            throw new ProtocolException("image list has " + trailing + " unexpected trailing bytes");
        }
        List<ImageInfo> out = new ArrayList<>(images.size());
        for (ImageInfo info : images) {
            String parent = r.string("parent image name");
            out.add(new ImageInfo(info.name(), info.root(), info.commitIndex(), parent.isEmpty() ? null : imageName(parent)));
        }
        return out;
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
        List<ImageInfo> images = readParents(r, readImages(r));
        r.end("image list");
        return images;
    }

    /** The answer to a session read: the entries, then the catalog index the node answered at. */
    public record SessionImages(List<ImageInfo> images, long servedIndex) {
        public ByteBuffer encode() {
            return writeParents(writeImages(new WireWriter(24 + images.size() * 160), images).i64(servedIndex), images)
                    .toBuffer();
        }

        public static SessionImages decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            List<ImageInfo> images = readImages(r);
            long served = r.i64("served index");
            images = readParents(r, images);
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
}
