package dev.cairn.engine.image;

import java.nio.charset.StandardCharsets;

/** Constants and field helpers of the POSIX ustar format (with GNU and PAX extensions) shared by reader and writer. */
final class Tar {

    static final int BLOCK = 512;
    /** Longest GNU long-name or PAX extended header this reader accepts; more is a hostile archive. */
    static final int MAX_META_BYTES = 1024 * 1024;

    static final byte REGULAR = '0';
    static final byte REGULAR_OLD = 0;
    static final byte HARDLINK = '1';
    static final byte SYMLINK = '2';
    static final byte CHAR_DEVICE = '3';
    static final byte BLOCK_DEVICE = '4';
    static final byte DIRECTORY = '5';
    static final byte FIFO = '6';
    static final byte CONTIGUOUS = '7';
    static final byte GNU_LONG_NAME = 'L';
    static final byte GNU_LONG_LINK = 'K';
    static final byte PAX_EXTENDED = 'x';
    static final byte PAX_GLOBAL = 'g';

    private Tar() {}

    static String string(byte[] block, int offset, int length) {
        int end = offset;
        while (end < offset + length && block[end] != 0) {
            end++;
        }
        return new String(block, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** An octal field, or a GNU base-256 one (high bit of the first byte set); -1 when malformed. */
    static long number(byte[] block, int offset, int length) {
        if ((block[offset] & 0x80) != 0) {
            if ((block[offset] & 0x40) != 0) {
                return -1; // negative base-256
            }
            long v = block[offset] & 0x3f;
            for (int i = 1; i < length; i++) {
                if (v > (Long.MAX_VALUE >> 8)) {
                    return -1;
                }
                v = (v << 8) | (block[offset + i] & 0xff);
            }
            return v;
        }
        long v = 0;
        int i = offset;
        int end = offset + length;
        while (i < end && block[i] == ' ') {
            i++;
        }
        boolean any = false;
        for (; i < end; i++) {
            byte b = block[i];
            if (b == 0 || b == ' ') {
                break;
            }
            if (b < '0' || b > '7' || v > (Long.MAX_VALUE >> 3)) {
                return -1;
            }
            v = (v << 3) | (b - '0');
            any = true;
        }
        return any ? v : 0;
    }

    static long checksum(byte[] block) {
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (block[i] & 0xff);
        }
        return sum;
    }

    static boolean isZero(byte[] block) {
        return isZero(block, block.length);
    }

    /** Whether the first {@code length} bytes of {@code block} are all zero. */
    static boolean isZero(byte[] block, int length) {
        for (int i = 0; i < length; i++) {
            if (block[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
