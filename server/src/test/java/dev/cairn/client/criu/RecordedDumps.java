package dev.cairn.client.criu;

/** Recorded page-server conversations for tests outside this package (the agent's). */
public final class RecordedDumps {
    private RecordedDumps() {}

    /** What criu sends for one task of {@code pages} present pages (seeded from {@code seed}) and a lazy range. */
    public static byte[] oneTask(int pages, int seed) {
        return new PageServerIngestTest.Dump().open(100).present(0x40_0000, pages, seed, 6).lazy(0x50_0000 + pages * 4096L, 10)
                .close().bytes();
    }
}
