package dev.cairn.engine.image;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a POSIX tar archive: ustar headers, with a PAX extended header for a path or link
 * longer than the ustar fields or a file of 8 GiB or more. Owners are 0 and times are the one
 * given, so the same image always gives the same archive.
 */
public final class TarWriter {

    private final OutputStream out;
    private final long mtimeSeconds;
    private long dataLeft;
    private long dataSize;

    public TarWriter(OutputStream out, long mtimeSeconds) {
        this.out = out;
        this.mtimeSeconds = mtimeSeconds;
    }

    public void directory(String path, int mode) throws IOException {
        header(path + "/", Tar.DIRECTORY, mode, 0, "");
    }

    public void symlink(String path, String target) throws IOException {
        header(path, Tar.SYMLINK, 0777, 0, target);
    }

    /** Starts a file of {@code size} bytes; exactly that many must follow through {@link #write}. */
    public void file(String path, int mode, long size) throws IOException {
        header(path, Tar.REGULAR, mode, size, "");
        dataLeft = size;
        dataSize = size;
    }

    public void write(byte[] b, int off, int len) throws IOException {
        if (len > dataLeft) {
            throw new IOException("tar: " + len + " bytes written where " + dataLeft + " were left of the file");
        }
        out.write(b, off, len);
        dataLeft -= len;
    }

    /** Ends the archive with two zero blocks; the stream is flushed, not closed. */
    public void finish() throws IOException {
        endFile();
        out.write(new byte[2 * Tar.BLOCK]);
        out.flush();
    }

    private void endFile() throws IOException {
        if (dataLeft != 0) {
            throw new IOException("tar: file ended " + dataLeft + " bytes short");
        }
        int pad = (int) ((Tar.BLOCK - dataSize % Tar.BLOCK) % Tar.BLOCK);
        out.write(new byte[pad]);
        dataSize = 0;
    }

    private void header(String path, byte type, int mode, long size, String link) throws IOException {
        endFile();
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        byte[] linkBytes = link.getBytes(StandardCharsets.UTF_8);
        boolean bigSize = size > 077777777777L;
        if (name.length > 100 || linkBytes.length > 100 || bigSize) {
            StringBuilder pax = new StringBuilder();
            if (name.length > 100) {
                pax.append(record("path", path));
            }
            if (linkBytes.length > 100) {
                pax.append(record("linkpath", link));
            }
            if (bigSize) {
                pax.append(record("size", Long.toString(size)));
            }
            byte[] body = pax.toString().getBytes(StandardCharsets.UTF_8);
            out.write(block("PaxHeader", Tar.PAX_EXTENDED, 0644, body.length, ""));
            out.write(body);
            out.write(new byte[(Tar.BLOCK - body.length % Tar.BLOCK) % Tar.BLOCK]);
        }
        out.write(block(path, type, mode, bigSize ? 0 : size, link));
    }

    private byte[] block(String path, byte type, int mode, long size, String link) {
        byte[] b = new byte[Tar.BLOCK];
        put(b, 0, 100, path);
        octal(b, 100, 8, mode & 07777);
        octal(b, 108, 8, 0);
        octal(b, 116, 8, 0);
        octal(b, 124, 12, size);
        octal(b, 136, 12, mtimeSeconds);
        b[156] = type;
        put(b, 157, 100, link);
        System.arraycopy("ustar\u000000".getBytes(StandardCharsets.US_ASCII), 0, b, 257, 8);
        for (int i = 148; i < 156; i++) {
            b[i] = ' ';
        }
        octal(b, 148, 7, Tar.checksum(b));
        b[155] = ' ';
        return b;
    }

    /** A PAX record "LEN key=value\n", whose LEN counts its own digits. */
    private static String record(String key, String value) {
        int body = (" " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8).length;
        int length = body + Integer.toString(body).length();
        if (Integer.toString(length).length() != Integer.toString(body).length()) {
            length++;
        }
        return length + " " + key + "=" + value + "\n";
    }

    private static void put(byte[] b, int offset, int length, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(bytes, 0, b, offset, Math.min(length, bytes.length));
    }

    private static void octal(byte[] b, int offset, int length, long value) {
        String s = Long.toOctalString(value);
        String padded = "0".repeat(Math.max(0, length - 1 - s.length())) + s;
        put(b, offset, length - 1, padded);
        b[offset + length - 1] = 0;
    }
}
