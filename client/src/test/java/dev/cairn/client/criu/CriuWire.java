package dev.cairn.client.criu;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds page-server byte streams by hand from CRIU's {@code struct page_server_iov} layout (u32
 * cmd, u32 nr_pages, u64 vaddr, u64 dst_id, little-endian: 24 bytes), independently of
 * {@link PageServerCodec}, so the codec is tested against the layout rather than against itself.
 */
final class CriuWire {

    static final int ADD = 1;
    static final int HOLE = 2;
    static final int OPEN2 = 4;
    static final int ADD_F = 6;
    static final int GET = 7;
    static final int CLOSE = 0x1023;
    static final int FORCE_CLOSE = 0x1024;

    static final int PE_PARENT = 1;
    static final int PE_LAZY = 2;
    static final int PE_PRESENT = 4;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** The dst_id a current CRIU sends for task {@code pid}'s pagemap. */
    static long task(long pid) {
        return pid << 8 | 1;
    }

    /** One header; {@code nrPages} is sent as CRIU's u32 (its low 32 bits). */
    static byte[] header(int cmd, long nrPages, long vaddr, long dstId) {
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(cmd).putInt((int) nrPages).putLong(vaddr).putLong(dstId).array();
    }

    /** A page whose every byte is {@code fill}, so truncation and order are visible. */
    static byte[] page(int fill) {
        byte[] page = new byte[4096];
        java.util.Arrays.fill(page, (byte) fill);
        return page;
    }

    CriuWire open2(long pid) {
        return raw(header(OPEN2, 0, 0, task(pid)));
    }

    /** PS_IOV_ADD_F with PE_PRESENT and {@code nrPages} pages filled with {@code firstFill}, {@code firstFill + 1}, … */
    CriuWire present(long pid, long vaddr, int nrPages, int firstFill) {
        raw(header(PE_PRESENT << 16 | ADD_F, nrPages, vaddr, task(pid)));
        for (int i = 0; i < nrPages; i++) {
            raw(page(firstFill + i));
        }
        return this;
    }

    CriuWire lazy(long pid, long vaddr, long nrPages) {
        return raw(header(PE_LAZY << 16 | ADD_F, nrPages, vaddr, task(pid)));
    }

    CriuWire hole(long pid, long vaddr, long nrPages) {
        return raw(header(HOLE, nrPages, vaddr, task(pid)));
    }

    CriuWire close() {
        return raw(header(CLOSE, 0, 0, 0));
    }

    /**
     * The pagemap image CRIU writes for {@code entries} ({vaddr, nrPages, flags} each): magics
     * 0x54564319 and 0x56084025, then u32-length-prefixed protobuf messages, built byte by byte.
     */
    static byte[] pagemapImage(long pagesId, long[]... entries) {
        ByteArrayOutputStream img = new ByteArrayOutputStream();
        img.writeBytes(new byte[] {0x19, 0x43, 0x56, 0x54, 0x25, 0x40, 0x08, 0x56});
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(0x08);
        varint(head, pagesId);
        prefixed(img, head.toByteArray());
        for (long[] e : entries) {
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            m.write(0x08); // field 1 vaddr, varint
            varint(m, e[0]);
            m.write(0x10); // field 2 compat_nr_pages: the count, as CRIU's own page server writes it
            varint(m, e[1]);
            m.write(0x20); // field 4 flags
            varint(m, e[2]);
            prefixed(img, m.toByteArray());
        }
        return img.toByteArray();
    }

    private static void prefixed(ByteArrayOutputStream to, byte[] message) {
        to.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(message.length).array());
        to.writeBytes(message);
    }

    private static void varint(ByteArrayOutputStream to, long v) {
        while (Long.compareUnsigned(v, 0x80) >= 0) {
            to.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        to.write((int) v);
    }

    CriuWire raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
