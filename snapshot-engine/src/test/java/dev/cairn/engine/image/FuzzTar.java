package dev.cairn.engine.image;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A tar writer for the fuzz test that records where each header and each data region lies, so
 * that mutations can aim at them, and that writes what {@link TarWriter} never would: GNU long
 * names, ustar prefixes, any type byte, any PAX body.
 */
final class FuzzTar {

    /** A region of the archive: where it starts and how long it is. */
    record Region(int at, int length) {}

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Random random;
    /** Every header block: ustar headers and the GNU and PAX extension headers before them. */
    final List<Integer> headers = new ArrayList<>();
    /** The ustar header of each entry (not the extension headers). */
    final List<Integer> entryHeaders = new ArrayList<>();
    /** Data regions (file data and extension bodies), without padding. */
    final List<Region> data = new ArrayList<>();
    /** Where the end-of-archive blocks start, once {@link #finish} ran. */
    int endAt = -1;

    FuzzTar(Random random) {
        this.random = random;
    }

    int size() {
        return out.size();
    }

    /** A regular file; a long name goes out as a PAX path, a GNU long name or a ustar prefix. */
    FuzzTar file(String path, int mode, byte[] bytes) {
        name(path, Tar.REGULAR, mode, bytes.length, "");
        body(bytes);
        return this;
    }

    FuzzTar directory(String path, int mode) {
        name(path + (random.nextBoolean() ? "/" : ""), Tar.DIRECTORY, mode, 0, "");
        return this;
    }

    FuzzTar symlink(String path, String target) {
        byte[] t = utf8(target);
        if (t.length > 100) {
            if (random.nextBoolean()) {
                pax("linkpath", target);
            } else {
                extension(Tar.GNU_LONG_LINK, nulTerminated(t));
            }
        }
        name(path, Tar.SYMLINK, 0777, 0, target);
        return this;
    }

    /** A header of any type for {@code path} with no data. */
    FuzzTar special(String path, byte type, String link) {
        name(path, type, 0644, 0, link);
        return this;
    }

    /** A raw zero block where a header should be: a lone end-of-archive block. */
    FuzzTar zeroBlock() {
        out.writeBytes(new byte[Tar.BLOCK]);
        return this;
    }

    /** A PAX extended header of one record, {@code key=value}. */
    FuzzTar pax(String key, String value) {
        extension(Tar.PAX_EXTENDED, utf8(record(key, value)));
        return this;
    }

    /** An extension header ({@code L}, {@code K}, {@code x}, {@code g}) with exactly {@code body}. */
    FuzzTar extension(byte type, byte[] body) {
        header("././@LongLink", type, 0644, body.length, "", "");
        body(body);
        return this;
    }

    /** An extension header that claims {@code size} bytes, with none following. */
    FuzzTar extensionClaiming(byte type, long size) {
        header("././@LongLink", type, 0644, size, "", "");
        return this;
    }

    /** The entry's header, after whatever extension header its long name needs. */
    private void name(String path, byte type, int mode, long size, String link) {
        byte[] p = utf8(path);
        String field = path;
        String prefix = "";
        if (p.length > 100) {
            int slash = path.lastIndexOf('/', path.length() - 2);
            int choice = random.nextInt(3);
            if (choice == 0 && slash > 0 && slash <= 155 && utf8(path.substring(slash + 1)).length <= 100) {
                prefix = path.substring(0, slash);
                field = path.substring(slash + 1);
            } else if (choice == 1) {
                extension(Tar.GNU_LONG_NAME, nulTerminated(p));
                field = path.substring(0, 50);
            } else {
                pax("path", path);
                field = "PaxNamed";
            }
        }
        entryHeaders.add(out.size());
        header(field, type, mode, size, link.length() > 100 ? "long" : link, prefix);
    }

    private void header(String name, byte type, int mode, long size, String link, String prefix) {
        byte[] b = new byte[Tar.BLOCK];
        put(b, 0, 100, name);
        put(b, 100, 8, String.format("%07o", mode & 07777));
        put(b, 108, 8, "0000000");
        put(b, 116, 8, "0000000");
        if (size > 077777777777L) {
            base256(b, 124, 12, size);
        } else {
            put(b, 124, 12, String.format("%011o", size));
        }
        put(b, 136, 12, "00000000000");
        b[156] = type;
        put(b, 157, 100, link);
        put(b, 257, 6, "ustar");
        put(b, 263, 2, "00");
        put(b, 345, 155, prefix);
        headers.add(out.size());
        checksum(b, 0);
        out.writeBytes(b);
    }

    private void body(byte[] bytes) {
        data.add(new Region(out.size(), bytes.length));
        out.writeBytes(bytes);
        out.writeBytes(new byte[(Tar.BLOCK - bytes.length % Tar.BLOCK) % Tar.BLOCK]);
    }

    /** Ends the archive with its two zero blocks and returns it. */
    byte[] finish() {
        endAt = out.size();
        out.writeBytes(new byte[2 * Tar.BLOCK]);
        return out.toByteArray();
    }

    /** Writes a correct checksum into the header block at {@code at} of {@code tar}. */
    static void checksum(byte[] tar, int at) {
        byte[] block = java.util.Arrays.copyOfRange(tar, at, at + Tar.BLOCK);
        put(tar, at + 148, 8, String.format("%06o", Tar.checksum(block)));
        tar[at + 154] = 0;
        tar[at + 155] = ' ';
    }

    static void base256(byte[] b, int at, int length, long value) {
        for (int i = length - 1; i > 0; i--) {
            b[at + i] = (byte) value;
            value >>>= 8;
        }
        b[at] = (byte) 0x80;
    }

    /** A PAX record "LEN key=value\n" whose LEN counts its own digits. */
    static String record(String key, String value) {
        int body = utf8(" " + key + "=" + value + "\n").length;
        int length = body + Integer.toString(body).length();
        if (Integer.toString(length).length() != Integer.toString(body).length()) {
            length++;
        }
        return length + " " + key + "=" + value + "\n";
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] nulTerminated(byte[] b) {
        return java.util.Arrays.copyOf(b, b.length + 1);
    }

    static void put(byte[] b, int at, int length, String s) {
        byte[] bytes = utf8(s);
        System.arraycopy(bytes, 0, b, at, Math.min(length, bytes.length));
    }
}
