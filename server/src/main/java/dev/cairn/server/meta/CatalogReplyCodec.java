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
 * The bytes of a catalog reply and of a stored image value (commit index and root), the two
 * formats that have stayed at version 1; requests are in {@link CatalogMessages}.
 */
final class CatalogReplyCodec {

    /** Replies and stored catalog values have not changed since version 1. */
    private static final int REPLY_VERSION = 1;

    private static final int MAX_MESSAGE_CHARS = 1024;

    private CatalogReplyCodec() {}

    static byte[] encode(Reply reply) {
        String message = reply.message().length() > MAX_MESSAGE_CHARS
                ? reply.message().substring(0, MAX_MESSAGE_CHARS) : reply.message();
        int perImage = 2 + ImageName.MAX_LENGTH + 8 + 2 + ImageRoot.ENCODED_LENGTH;
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 4 + reply.images().size() * perImage + 2 + 4 * MAX_MESSAGE_CHARS);
        b.put((byte) REPLY_VERSION).put((byte) reply.status().code).putLong(reply.index());
        b.putInt(reply.images().size());
        for (ImageInfo info : reply.images()) {
            putString(b, info.name().value());
            b.putLong(info.commitIndex());
            putBytes(b, info.root().encode());
        }
        putString(b, message);
        return copyOut(b);
    }

    static Reply decodeReply(ByteBuffer b) {
        try {
            CatalogMessages.checkVersion(b);
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
                images.add(new ImageInfo(name, CatalogMessages.decodeRoot(getBytes(b, CatalogMessages.MAX_ROOT_BYTES)),
                        commitIndex));
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

    // ---- stored catalog values: version, commit index, root

    static byte[] encodeEntry(long commitIndex, ImageRoot root) {
        byte[] rootBytes = root.encode();
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + rootBytes.length);
        b.put((byte) REPLY_VERSION).putLong(commitIndex).put(rootBytes);
        return b.array();
    }

    static ImageInfo decodeEntry(ImageName name, byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        try {
            CatalogMessages.checkVersion(b);
            long commitIndex = b.getLong();
            ImageInfo info = new ImageInfo(name, ImageRoot.decode(b), commitIndex);
            checkFullyRead(b);
            return info;
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("catalog entry for " + name + " is truncated", e);
        }
    }
}
