package dev.cairn.client.criu;

/**
 * Which pagemap a page-server message writes to: CRIU's {@code dst_id}, a kind in its low 8 bits
 * and an id (a task's virtual pid, or a shared-memory segment's id) above them.
 *
 * @param kind a process's private memory or a shared-memory segment
 * @param id the pid or shmem id, which names the image files
 */
public record PagemapTarget(Kind kind, long id) {

    /** What the pagemap holds, and so how its image file is named. */
    public enum Kind {
        /** A task's private memory: {@code pagemap-PID.img}. */
        TASK(1, "pagemap-"),
        /** A shared-memory segment: {@code pagemap-shmem-ID.img}. */
        SHMEM(2, "pagemap-shmem-");

        private final int wireType;
        private final String filePrefix;

        Kind(int wireType, String filePrefix) {
            this.wireType = wireType;
            this.filePrefix = filePrefix;
        }
    }

    private static final int TYPE_BITS = 8;
    private static final long MAX_ID = (1L << (Long.SIZE - TYPE_BITS)) - 1;

    public PagemapTarget {
        if (kind == null) {
            throw new IllegalArgumentException("a pagemap target needs a kind");
        }
        if (id < 0 || id > MAX_ID) {
            throw new IllegalArgumentException("a pagemap id must fit in 56 bits, not " + Long.toUnsignedString(id));
        }
    }

    /**
     * The target a {@code dst_id} names, or null when its type is none CRIU ever sent. Before 3.3
     * CRIU put its changing image-type numbers in the low byte; those old numbers are still read,
     * as CRIU's own page server reads them.
     */
    public static PagemapTarget decode(long dstId) {
        long id = dstId >>> TYPE_BITS;
        return switch ((int) (dstId & 0xff)) {
            case 1, 10, 11, 16, 17 -> new PagemapTarget(Kind.TASK, id);
            case 2, 27, 28, 29, 32, 33, 34 -> new PagemapTarget(Kind.SHMEM, id);
            default -> null;
        };
    }

    /** The {@code dst_id} a current CRIU sends for this target. */
    public long encode() {
        return id << TYPE_BITS | kind.wireType;
    }

    /** The pagemap image's file name in a dump directory, {@code pagemap-42.img}. */
    public String pagemapFileName() {
        return kind.filePrefix + id + ".img";
    }

    @Override
    public String toString() {
        return pagemapFileName();
    }
}
