package dev.cairn.client.criu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The page-server wire format: 24-byte message headers (and the server's short answers), in the
 * byte order of the x86-64 and arm64 hosts CRIU runs on (little-endian). Decoding checks every
 * field before a message is trusted; see {@code docs/criu.md} for the layout.
 */
public final class PageServerCodec {

    /**
     * A header, CRIU's {@code struct page_server_iov}: u32 command word, u32 nr_pages, u64 vaddr,
     * u64 dst_id. The u32 page count fills what would otherwise be padding, so there is none.
     */
    public static final int HEADER_BYTES = 24;
    /** CRIU's page size on every host Cairn serves. */
    public static final int PAGE_BYTES = 4096;

    private static final int FLAG_SHIFT = 16;
    private static final int CODE_MASK = 0xffff;

    private final PageServerLimits limits;

    public PageServerCodec(PageServerLimits limits) {
        this.limits = limits;
    }

    /** Writes {@code message} as CRIU would send it; its page count must fit CRIU's u32. */
    public static byte[] encode(PageServerMessage message) {
        if (Long.compareUnsigned(message.nrPages(), 0xffff_ffffL) > 0) {
            throw new IllegalArgumentException("CRIU's page count is 32 bits; " + message.nrPages() + " does not fit");
        }
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(message.wireFlags() << FLAG_SHIFT | message.command().code());
        out.putInt((int) message.nrPages());
        out.putLong(message.vaddr());
        out.putLong(message.dstId());
        return out.array();
    }

    /** The answer to {@code PS_IOV_OPEN2}: one byte, 1 when a parent image holds the pagemap. */
    public static byte[] openAnswer(boolean hasParent) {
        return new byte[] {(byte) (hasParent ? 1 : 0)};
    }

    /** The answer to {@code PS_IOV_PARENT}: a 4-byte int, 1 when a parent image holds the pagemap. */
    public static byte[] parentAnswer(boolean hasParent) {
        return int32(hasParent ? 1 : 0);
    }

    /** The answer to {@code PS_IOV_CLOSE}: a 4-byte status, 0 when everything was received. */
    public static byte[] closeAnswer(int status) {
        return int32(status);
    }

    private static byte[] int32(int value) {
        return ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }

    /**
     * Reads one header from the next {@link #HEADER_BYTES} bytes of {@code in} and checks it.
     *
     * @param streamOffset where the header starts in the stream, for error messages
     * @throws PageServerProtocolException when the header is none CRIU sends or breaks a limit
     */
    public PageServerMessage decode(ByteBuffer in, long streamOffset) throws PageServerProtocolException {
        if (in.remaining() < HEADER_BYTES) {
            throw new PageServerProtocolException(streamOffset,
                    "a page-server header needs " + HEADER_BYTES + " bytes, only " + in.remaining() + " arrived");
        }
        ByteBuffer le = in.slice().order(ByteOrder.LITTLE_ENDIAN);
        int word = le.getInt(0);
        PageServerMessage message = new PageServerMessage(command(word, streamOffset), word >>> FLAG_SHIFT,
                Integer.toUnsignedLong(le.getInt(4)), le.getLong(8), le.getLong(16));
        in.position(in.position() + HEADER_BYTES);
        check(message, streamOffset);
        return message;
    }

    private static PageServerCommand command(int word, long streamOffset) throws PageServerProtocolException {
        PageServerCommand command = PageServerCommand.fromCode(word & CODE_MASK);
        if (command != null) {
            return command;
        }
        String hint = PageServerCommand.fromCode(Integer.reverseBytes(word) & CODE_MASK) != null
                ? "; it reads as a command in big-endian order, and Cairn serves little-endian CRIU (x86-64, arm64) only"
                : "; the stream is corrupt or from a CRIU newer than Cairn knows";
        throw new PageServerProtocolException(streamOffset,
                "unknown page-server command word 0x" + Integer.toHexString(word) + hint);
    }

    private void check(PageServerMessage m, long at) throws PageServerProtocolException {
        PageServerCommand command = m.command();
        if (m.wireFlags() != 0 && command != PageServerCommand.ADD_F) {
            throw new PageServerProtocolException(at, command.criuName() + " carries flags 0x"
                    + Integer.toHexString(m.wireFlags()) + ", which only PS_IOV_ADD_F may");
        }
        if (command == PageServerCommand.ADD_F) {
            checkEntryFlags(m.wireFlags(), at);
        }
        if (command.namesPagemap() && m.target() == null) {
            throw new PageServerProtocolException(at, command.criuName() + " names pagemap type "
                    + (m.dstId() & 0xff) + " in dst_id 0x" + Long.toHexString(m.dstId())
                    + ", which no CRIU sends (1 is a task, 2 shared memory)");
        }
        if (command.describesPages()) {
            checkRange(m, at);
        }
    }

    private static void checkEntryFlags(int flags, long at) throws PageServerProtocolException {
        boolean known = flags == PageFlags.PRESENT || flags == PageFlags.LAZY
                || flags == (PageFlags.LAZY | PageFlags.PRESENT) || flags == PageFlags.PARENT;
        if (!known) {
            throw new PageServerProtocolException(at, "PS_IOV_ADD_F carries page flags " + PageFlags.describe(flags)
                    + "; CRIU sends present, lazy, lazy|present or parent");
        }
    }

    private void checkRange(PageServerMessage m, long at) throws PageServerProtocolException {
        String what = m.describe();
        if (m.nrPages() == 0) {
            throw new PageServerProtocolException(at, what + ": an empty page range, which CRIU never sends");
        }
        if (m.vaddr() % PAGE_BYTES != 0) {
            throw new PageServerProtocolException(at, what + ": the address is not 4 KiB aligned");
        }
        // The range must end within the 64-bit address space: nrPages <= (2^64 - vaddr) / 4096.
        long pagesLeftInSpace = Long.divideUnsigned(-m.vaddr(), PAGE_BYTES);
        if (m.vaddr() != 0 && Long.compareUnsigned(m.nrPages(), pagesLeftInSpace) > 0
                || m.vaddr() == 0 && Long.compareUnsigned(m.nrPages(), 1L << (Long.SIZE - 12)) > 0) {
            throw new PageServerProtocolException(at, what + ": the range runs past the end of the address space");
        }
        boolean bounded = m.carriesPages() || m.command() == PageServerCommand.GET;
        if (bounded && Long.compareUnsigned(m.nrPages(), limits.maxPagesPerMessage()) > 0) {
            throw new PageServerProtocolException(at, what + ": more pages than the limit of "
                    + limits.maxPagesPerMessage() + " per message (page-server maxPagesPerMessage); "
                    + "CRIU sends at most one pipe buffer (1,024 pages) at a time, so the stream is corrupt");
        }
    }
}
