package dev.cairn.client;

/**
 * How a get writes what it restores beyond the defaults.
 *
 * @param keepSetId keep the setuid and setgid bits (04000, 02000) of the image's files and
 *     directories. Off by default: an image may come from another tenant or host, and a restore
 *     that keeps them could plant a setuid binary (owned by whoever runs the restore, root on a
 *     checkpoint host) for anyone who can reach the destination. The sticky bit (01000) is kept
 *     either way: it only limits who may delete in a directory.
 */
public record RestoreOptions(boolean keepSetId) {

    /** The bits a restore clears unless asked: S_ISUID and S_ISGID. */
    public static final int SET_ID_BITS = 06000;

    /** Setuid and setgid are stripped. */
    public static final RestoreOptions DEFAULT = new RestoreOptions(false);

    /** These options, keeping setuid and setgid bits as the image holds them. */
    public RestoreOptions withKeepSetId() {
        return new RestoreOptions(true);
    }

    /** The mode a restore gives an entry whose image mode is {@code mode}. */
    int restoredMode(int mode) {
        return keepSetId ? mode & 07777 : mode & 07777 & ~SET_ID_BITS;
    }
}
