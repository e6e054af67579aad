package dev.cairn.server.meta;

import static dev.cairn.server.meta.CatalogBytes.checkFullyRead;
import static dev.cairn.server.meta.CatalogBytes.copyOut;
import static dev.cairn.server.meta.CatalogBytes.getBytes;
import static dev.cairn.server.meta.CatalogBytes.getString;
import static dev.cairn.server.meta.CatalogBytes.putBytes;
import static dev.cairn.server.meta.CatalogBytes.putString;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogMessages.MalformedMessageException;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Status;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of a catalog reply and of a stored image value (commit index, root and, since
 * version 2, the parent); requests are in {@link CatalogMessages}. Both are written at version 1
 * unless an image in them has a parent, so a catalog without lineage is byte for byte as before.
 */
final class CatalogReplyCodec {

    /** Replies and stored catalog values without lineage. */
    private static final int REPLY_VERSION = 1;
    /** Replies and stored catalog values whose images carry their parent (str, "" for none) after the root. */
    private static final int LINEAGE_VERSION = 2;

    private static final int MAX_MESSAGE_CHARS = 1024;

    private CatalogReplyCodec() {}

    static byte[] encode(Reply reply) {
        String message = reply.message().length() > MAX_MESSAGE_CHARS
                ? reply.message().substring(0, MAX_MESSAGE_CHARS) : reply.message();
        int perImage = 2 + ImageName.MAX_LENGTH + 8 + 2 + ImageRoot.ENCODED_LENGTH + 2 + ImageName.MAX_LENGTH;
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 4 + reply.images().size() * perImage + 2 + 4 * MAX_MESSAGE_CHARS);
        boolean lineage = reply.images().stream().anyMatch(i -> i.parent() != null);
        b.put((byte) (lineage ? LINEAGE_VERSION : REPLY_VERSION)).put((byte) reply.status().code).putLong(reply.index());
        b.putInt(reply.images().size());
        for (ImageInfo info : reply.images()) {
            putString(b, info.name().value());
            b.putLong(info.commitIndex());
            putBytes(b, info.root().encode());
            if (lineage) {
                putString(b, info.parent() == null ? "" : info.parent().value());
            }
        }
        putString(b, message);
        return copyOut(b);
    }

    static Reply decodeReply(ByteBuffer b) {
        try {
            int version = CatalogMessages.checkVersion(b);
            Status status = Status.of(b.get() & 0xff);
            long index = b.getLong();
            int count = b.getInt();
            if (count < 0 || count > CatalogMessages.MAX_LIST_LIMIT) {
                throw new MalformedMessageException("catalog reply has " + count + " images; at most "
                        + CatalogMessages.MAX_LIST_LIMIT);
            }
            List<ImageInfo> images = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ImageName name = new ImageName(getString(b));
                long commitIndex = b.getLong();
                ImageRoot root = CatalogMessages.decodeRoot(getBytes(b, CatalogMessages.MAX_ROOT_BYTES));
                images.add(new ImageInfo(name, root, commitIndex, version >= LINEAGE_VERSION ? parent(b) : null));
            }
            String message = getString(b);
            checkFullyRead(b);
            return new Reply(status, index, images, message);
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("catalog reply is truncated", e);
        } catch (MalformedMessageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new MalformedMessageException("catalog reply is invalid: " + e.getMessage(), e);
        }
    }

    /** A parent written as a string, "" for none. */
    private static ImageName parent(ByteBuffer b) {
        String parent = getString(b);
        return parent.isEmpty() ? null : new ImageName(parent);
    }

    // ---- stored catalog values: version, commit index, root, and (version 2) the parent

    static byte[] encodeEntry(long commitIndex, ImageRoot root) {
        return encodeEntry(commitIndex, root, null);
    }

    static byte[] encodeEntry(long commitIndex, ImageRoot root, ImageName parent) {
        byte[] rootBytes = root.encode();
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + rootBytes.length + 2 + ImageName.MAX_LENGTH);
        b.put((byte) (parent == null ? REPLY_VERSION : LINEAGE_VERSION)).putLong(commitIndex).put(rootBytes);
        if (parent != null) {
            putString(b, parent.value());
        }
        return copyOut(b);
    }

    static ImageInfo decodeEntry(ImageName name, byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        try {
            int version = CatalogMessages.checkVersion(b);
            if (version > LINEAGE_VERSION) {
                throw new MalformedMessageException("catalog entry for " + name + " has version " + version
                        + "; this build reads 1.." + LINEAGE_VERSION);
            }
            long commitIndex = b.getLong();
            ImageRoot root = ImageRoot.decode(b);
            ImageInfo info = new ImageInfo(name, root, commitIndex, version >= LINEAGE_VERSION ? parent(b) : null);
            checkFullyRead(b);
            return info;
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("catalog entry for " + name + " is truncated", e);
        }
    }
}
