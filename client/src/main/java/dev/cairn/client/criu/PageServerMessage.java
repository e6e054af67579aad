package dev.cairn.client.criu;

/**
 * One page-server message header, as CRIU's {@code struct page_server_iov} carries it: a command
 * with flags, a page count, a virtual address and a destination id. Page bytes, when the message
 * has any, follow the header on the wire and are not part of this value.
 *
 * @param command what the message asks
 * @param wireFlags the high 16 bits of the command word; only {@link PageServerCommand#ADD_F} uses them
 * @param nrPages how many 4 KiB pages the range covers (an unsigned 64-bit count on the wire)
 * @param vaddr the range's first virtual address, page-aligned
 * @param dstId the pagemap the message writes to ({@link PagemapTarget}); for {@code PS_IOV_GET} the task's pid
 */
public record PageServerMessage(PageServerCommand command, int wireFlags, long nrPages, long vaddr, long dstId) {

    public PageServerMessage {
        if (command == null) {
            throw new IllegalArgumentException("a page-server message needs a command");
        }
        if ((wireFlags & ~0xffff) != 0) {
            throw new IllegalArgumentException("page-server flags fit in 16 bits, not 0x" + Integer.toHexString(wireFlags));
        }
    }

    /** {@code PS_IOV_OPEN2}: start writing the pagemap of {@code target}. */
    public static PageServerMessage open2(PagemapTarget target) {
        return new PageServerMessage(PageServerCommand.OPEN2, 0, 0, 0, target.encode());
    }

    /** {@code PS_IOV_ADD_F}: a pagemap entry; {@code nrPages} pages of bytes follow when {@code flags} has PRESENT. */
    public static PageServerMessage addF(PagemapTarget target, long vaddr, long nrPages, int flags) {
        return new PageServerMessage(PageServerCommand.ADD_F, flags, nrPages, vaddr, target.encode());
    }

    /** {@code PS_IOV_HOLE}: a range whose pages are in the parent dump. */
    public static PageServerMessage hole(PagemapTarget target, long vaddr, long nrPages) {
        return new PageServerMessage(PageServerCommand.HOLE, 0, nrPages, vaddr, target.encode());
    }

    /** {@code PS_IOV_GET}: lazy restore asks task {@code pid} for pages. */
    public static PageServerMessage get(long pid, long vaddr, long nrPages) {
        return new PageServerMessage(PageServerCommand.GET, 0, nrPages, vaddr, pid);
    }

    /** {@code PS_IOV_CLOSE}: the dump is over. */
    public static PageServerMessage close() {
        return new PageServerMessage(PageServerCommand.CLOSE, 0, 0, 0, 0);
    }

    /** The pagemap entry flags this message stands for: ADD means present, HOLE means parent. */
    public int pageFlags() {
        return switch (command) {
            case ADD -> PageFlags.PRESENT;
            case HOLE -> PageFlags.PARENT;
            case ADD_F -> wireFlags;
            default -> 0;
        };
    }

    /** True when the header is followed by {@code nrPages} pages of bytes. */
    public boolean carriesPages() {
        return (command == PageServerCommand.ADD || command == PageServerCommand.ADD_F) && PageFlags.present(pageFlags());
    }

    /** The pagemap this message writes to, or null for a command that names none or an unknown type. */
    public PagemapTarget target() {
        return command.namesPagemap() ? PagemapTarget.decode(dstId) : null;
    }

    /** One line for logs and errors: {@code PS_IOV_ADD_F present 12 pages at 0x7f0000 to pagemap-42.img}. */
    public String describe() {
        StringBuilder s = new StringBuilder(command.criuName());
        if (command.describesPages()) {
            if (command == PageServerCommand.ADD_F) {
                s.append(' ').append(PageFlags.describe(wireFlags));
            }
            s.append(' ').append(Long.toUnsignedString(nrPages)).append(" pages at 0x").append(Long.toHexString(vaddr));
        }
        PagemapTarget target = target();
        if (target != null) {
            s.append(" to ").append(target.pagemapFileName());
        } else if (command == PageServerCommand.GET) {
            s.append(" of task ").append(dstId);
        }
        return s.toString();
    }
}
