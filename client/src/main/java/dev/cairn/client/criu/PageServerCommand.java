package dev.cairn.client.criu;

/**
 * The commands of CRIU's page-server protocol: the low 16 bits of a message's first word.
 *
 * <p>CRIU 3.17 renamed {@code PS_IOV_FLUSH} and {@code PS_IOV_FLUSH_N_CLOSE} to {@code
 * PS_IOV_CLOSE} and {@code PS_IOV_FORCE_CLOSE}; the codes stayed, so one enum constant serves
 * both generations.
 */
public enum PageServerCommand {
    /** Pages present in the dump, followed by their bytes; the pre-flags form of {@link #ADD_F}. */
    ADD(1, "PS_IOV_ADD"),
    /** A range whose pages live in the parent dump; no bytes follow. */
    HOLE(2, "PS_IOV_HOLE"),
    /** Opens a pagemap without an answer; CRIU replaced it with {@link #OPEN2} in 2014. */
    OPEN(3, "PS_IOV_OPEN"),
    /** Opens a pagemap; the server answers one byte, 1 when a parent image holds that pagemap. */
    OPEN2(4, "PS_IOV_OPEN2"),
    /** Asks whether a parent image holds a pagemap; the server answers a 4-byte int. */
    PARENT(5, "PS_IOV_PARENT"),
    /** A pagemap entry with its flags in the high 16 bits; bytes follow when it is present. */
    ADD_F(6, "PS_IOV_ADD_F"),
    /** Lazy restore asks for pages; the server answers an {@link #ADD_F} header and the bytes. */
    GET(7, "PS_IOV_GET"),
    /** The dump is over; the server answers a 4-byte status (0) and the connection ends. */
    CLOSE(0x1023, "PS_IOV_CLOSE"),
    /** As {@link #CLOSE}, sent when criu was handed the socket and cannot close it itself. */
    FORCE_CLOSE(0x1024, "PS_IOV_FORCE_CLOSE");

    private final int code;
    private final String criuName;

    PageServerCommand(int code, String criuName) {
        this.code = code;
        this.criuName = criuName;
    }

    /** The command's number on the wire. */
    public int code() {
        return code;
    }

    /** The name CRIU's source gives the command, used in error messages. */
    public String criuName() {
        return criuName;
    }

    /** The command with this code, or null when the protocol has none. */
    public static PageServerCommand fromCode(int code) {
        for (PageServerCommand command : values()) {
            if (command.code == code) {
                return command;
            }
        }
        return null;
    }

    /** True for the commands that address a pagemap through their destination id. */
    public boolean namesPagemap() {
        return this == ADD || this == HOLE || this == OPEN || this == OPEN2 || this == PARENT || this == ADD_F;
    }

    /** True for the commands that describe a range of pages. */
    public boolean describesPages() {
        return this == ADD || this == HOLE || this == ADD_F || this == GET;
    }
}
