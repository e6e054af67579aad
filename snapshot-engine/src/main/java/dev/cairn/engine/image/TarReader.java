package dev.cairn.engine.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a tar archive (POSIX ustar, GNU long names, PAX extended headers) one entry at a time,
 * refusing what a checkpoint archive never holds and a hostile one might: bad checksums,
 * extended headers over {@value Tar#MAX_META_BYTES} bytes, hard links, devices, sparse files.
 * Paths are returned as written (leading {@code ./} removed); whether a path is safe is the
 * caller's check.
 */
final class TarReader {

    /** One header: a path, its type and mode, and for files the number of data bytes that follow. */
    record Header(String path, byte type, int mode, long size, String linkTarget) {}

    private final InputStream in;
    private final boolean allowTruncated;
    private final byte[] block = new byte[Tar.BLOCK];
    /** The path of the last entry returned, for the message of an archive that was cut off after it. */
    private String lastPath;
    private long offset;
    private long dataLeft;
    private long dataSize;

    TarReader(InputStream in) {
        this(in, TarOptions.STRICT);
    }

    TarReader(InputStream in, TarOptions options) {
        this.in = in;
        this.allowTruncated = options.allowTruncated();
    }

    /** The next entry, or null at the end of the archive; the previous entry's data is skipped. */
    Header next() throws IOException {
        skipData();
        Extensions ext = new Extensions();
        while (true) {
            long headerAt = offset;
            if (!readBlock(true)) {
                ext.mustBeEmpty(headerAt);
                return cutOff(); // GNU tar tolerates this; a store must not take half an upload for a whole one
            }
            if (Tar.isZero(block)) {
                ext.mustBeEmpty(headerAt);
                return endOfArchive(headerAt);
            }
            long stored = Tar.number(block, 148, 8);
            if (stored != Tar.checksum(block)) {
                throw new SourceException("tar: bad header checksum at byte " + headerAt
                        + "; the input is not a tar archive or is corrupt");
            }
            byte type = block[156];
            long size = Tar.number(block, 124, 12);
            if (size < 0) {
                throw new SourceException("tar: malformed size field in the header at byte " + headerAt);
            }
            if (Tar.number(block, 100, 8) < 0) {
                throw new SourceException("tar: malformed mode field in the header at byte " + headerAt
                        + "; the archive is corrupt");
            }
            if (type == Tar.GNU_LONG_NAME || type == Tar.GNU_LONG_LINK || type == Tar.PAX_EXTENDED || type == Tar.PAX_GLOBAL) {
                if (size > Tar.MAX_META_BYTES) {
                    throw new SourceException("tar: extended header of " + size + " bytes at byte " + headerAt
                            + " exceeds the limit of " + Tar.MAX_META_BYTES + " bytes");
                }
                byte[] meta = readExactly((int) size);
                skipPadding(size);
                ext.absorb(type, meta, headerAt);
                continue;
            }
            return entry(type, size, ext);
        }
    }

    /**
     * The input ended at a block boundary before the end-of-archive blocks: the archive was cut
     * off, and what arrived is taken only when the reader was asked to.
     */
    private Header cutOff() throws SourceException {
        if (allowTruncated) {
            return null;
        }
        if (lastPath == null) {
            throw new SourceException("tar: the archive is empty (no entries and no end-of-archive blocks); it was cut off"
                    + " or is not a tar archive (add --allow-truncated-tar to store what arrived)");
        }
        throw new SourceException("tar: the archive ends without its end-of-archive blocks after entry '" + lastPath
                + "'; it was cut off (add --allow-truncated-tar to store what arrived)");
    }

    /**
     * The first zero block has been read: the second must follow. What comes after the second
     * (GNU tar pads to a 10 KiB record with zeros) is not read.
     */
    private Header endOfArchive(long firstAt) throws IOException {
        int n = in.readNBytes(block, 0, Tar.BLOCK);
        offset += n;
        if (!Tar.isZero(block, n)) {
            throw new SourceException("tar: the zero block at byte " + firstAt + " is followed by more data; "
                    + "the archive is corrupt (or several archives were joined: unpack and archive them again)");
        }
        return n < Tar.BLOCK ? cutOff() : null;
    }

    /** The entry whose ustar header is in {@link #block}, with what extended headers before it said. */
    private Header entry(byte headerType, long headerSize, Extensions ext) throws SourceException {
        String name = Tar.string(block, 0, 100);
        String magic = Tar.string(block, 257, 6);
        if (magic.startsWith("ustar")) {
            String prefix = Tar.string(block, 345, 155);
            if (!prefix.isEmpty() && !magic.equals("ustar ")) { // "ustar  " is old GNU: no prefix field
                name = prefix + "/" + name;
            }
        }
        String path = ext.paxPath != null ? ext.paxPath : ext.longName != null ? ext.longName : name;
        String link = ext.paxLink != null ? ext.paxLink : ext.longLink != null ? ext.longLink : Tar.string(block, 157, 100);
        long size = ext.paxSize >= 0 ? ext.paxSize : headerSize;
        int mode = (int) (Tar.number(block, 100, 8) & 07777);
        byte type = entryType(headerType, path, link);
        // Data of a directory or symlink header (size should be 0) is skipped, never used.
        dataLeft = size;
        dataSize = size;
        lastPath = withoutDotSlashes(path);
        return new Header(lastPath, type, mode, type == Tar.REGULAR ? size : 0, link);
    }

    /** The type an image holds for a header's type, or a refusal of what images cannot hold. */
    private static byte entryType(byte type, String path, String link) throws SourceException {
        return switch (type) {
            // pre-POSIX archives mark directories by the slash only
            case Tar.REGULAR, Tar.REGULAR_OLD, Tar.CONTIGUOUS ->
                    path.endsWith("/") && type == Tar.REGULAR_OLD ? Tar.DIRECTORY : Tar.REGULAR;
            case Tar.DIRECTORY, Tar.SYMLINK -> type;
            case Tar.HARDLINK -> throw new SourceException("tar: entry '" + path + "' is a hard link to '" + link
                    + "'; images hold files, directories and symlinks only (archive with --hard-dereference)");
            case Tar.CHAR_DEVICE, Tar.BLOCK_DEVICE, Tar.FIFO -> throw new SourceException("tar: entry '" + path
                    + "' is a device or pipe, which images cannot hold");
            default -> throw new SourceException("tar: entry '" + path + "' has type '" + (char) type
                    + "', which this reader does not support");
        };
    }

    private static String withoutDotSlashes(String path) {
        while (path.startsWith("./")) {
            path = path.substring(2);
        }
        while (path.endsWith("/") && path.length() > 1) {
            path = path.substring(0, path.length() - 1);
        }
        return path;
    }

    /** What GNU long-name and PAX headers say about the entry that follows them. */
    private final class Extensions {
        String longName;
        String longLink;
        String paxPath;
        String paxLink;
        long paxSize = -1;
        /** Where the first extension header of the coming entry is, or -1 when none has been read. */
        long firstAt = -1;

        /** Refuses extension headers that the end of the archive follows: they describe no entry. */
        void mustBeEmpty(long endAt) throws SourceException {
            if (firstAt >= 0) {
                throw new SourceException("tar: the extended header at byte " + firstAt + " describes no entry: the archive "
                        + "ends at byte " + endAt + " after it; it was cut off or is corrupt");
            }
        }

        void absorb(byte type, byte[] meta, long headerAt) throws SourceException {
            if (firstAt < 0 && type != Tar.PAX_GLOBAL) { // a global header (git archive writes one) needs no entry
                firstAt = headerAt;
            }
            if (type == Tar.GNU_LONG_NAME) {
                longName = Tar.string(meta, 0, meta.length);
            } else if (type == Tar.GNU_LONG_LINK) {
                longLink = Tar.string(meta, 0, meta.length);
            } else if (type == Tar.PAX_EXTENDED) {
                for (String[] kv : pax(meta, headerAt)) {
                    absorbPax(kv[0], kv[1], headerAt);
                }
            }
        }

        private void absorbPax(String key, String value, long headerAt) throws SourceException {
            switch (key) {
                case "path" -> paxPath = value;
                case "linkpath" -> paxLink = value;
                case "size" -> {
                    try {
                        paxSize = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        paxSize = -2;
                    }
                    if (paxSize < 0) {
                        throw new SourceException("tar: bad PAX size '" + value + "' at byte " + headerAt);
                    }
                }
                case "GNU.sparse.map", "GNU.sparse.size", "GNU.sparse.major" ->
                        throw new SourceException("tar: sparse file at byte " + headerAt
                                + " is not supported; create the archive without --sparse");
                default -> { }
            }
        }
    }

    /** The current regular file's data; reading past it gives end of stream. */
    InputStream data() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (dataLeft == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, dataLeft));
                if (n < 0) {
                    throw new SourceException("tar: archive ends inside a file's data (truncated)");
                }
                dataLeft -= n;
                offset += n;
                return n;
            }
        };
    }

    /**
     * Reads past what is left of the entry's data. By reading, not {@code skip}: an archive often
     * comes through a pipe ({@code tar -c | cairn put --tar NAME -}), and a skip on a pipe fails
     * with a seek error.
     */
    private void skipData() throws IOException {
        byte[] scratch = dataLeft > 0 ? new byte[(int) Math.min(dataLeft, 64 * 1024)] : null;
        while (dataLeft > 0) {
            int n = in.read(scratch, 0, (int) Math.min(dataLeft, scratch.length));
            if (n < 0) {
                throw new SourceException("tar: archive ends inside a file's data (truncated)");
            }
            dataLeft -= n;
            offset += n;
        }
        skipPadding(dataSize);
        dataSize = 0;
    }

    private void skipPadding(long dataBytes) throws IOException {
        readExactly((int) ((Tar.BLOCK - dataBytes % Tar.BLOCK) % Tar.BLOCK));
    }

    private boolean readBlock(boolean eofAllowed) throws IOException {
        int n = in.readNBytes(block, 0, Tar.BLOCK);
        offset += n;
        if (n == 0 && eofAllowed) {
            return false;
        }
        if (n < Tar.BLOCK) {
            throw new SourceException("tar: archive ends inside a header (truncated at byte " + offset + ")");
        }
        return true;
    }

    private byte[] readExactly(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        offset += b.length;
        if (b.length < n) {
            throw new SourceException("tar: archive is truncated at byte " + offset);
        }
        return b;
    }

    private static java.util.List<String[]> pax(byte[] meta, long at) throws SourceException {
        java.util.List<String[]> out = new java.util.ArrayList<>();
        int i = 0;
        while (i < meta.length) {
            int space = i;
            while (space < meta.length && meta[space] != ' ') {
                space++;
            }
            int length;
            try {
                length = Integer.parseInt(new String(meta, i, space - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new SourceException("tar: malformed PAX record at byte " + at);
            }
            // In longs: a length near Integer.MAX_VALUE after an earlier record would wrap around.
            if (length <= space - i + 1 || (long) i + length > meta.length || meta[i + length - 1] != '\n') {
                throw new SourceException("tar: malformed PAX record at byte " + at);
            }
            String record = new String(meta, space + 1, i + length - space - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq < 0) {
                throw new SourceException("tar: malformed PAX record at byte " + at);
            }
            out.add(new String[] {record.substring(0, eq), record.substring(eq + 1)});
            i += length;
        }
        return out;
    }
}
