package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How large an ingest buffer a dump gets from the configured bound and the JVM's memory. */
class IngestBufferBoundTest {

    /** Runtime.maxMemory() of the agent as bin/cairn starts it (-Xmx512m, parallel collector). */
    private static final long AGENT_MAX_MEMORY = 455L << 20;
    /** What criu sent for the benchmark's 300 MB process: headers and 77,117 pages. */
    private static final long BENCH_STREAM_BYTES = 315_882_131L;

    @Test
    void theAgentBuffersTheWholeBenchmarkDumpSoCriuNeverWaitsForTheUpload() {
        long bytes = CriuIngest.bufferBytes(PageServerLimits.DEFAULT.ingestBufferBytes(), AGENT_MAX_MEMORY);
        assertTrue(bytes >= BENCH_STREAM_BYTES, bytes + " bytes of buffer for a " + BENCH_STREAM_BYTES + "-byte stream");
    }

    @Test
    void theBufferStaysWithinTheConfiguredBoundAndLeavesAQuarterOfTheMemory() {
        assertEquals(64L << 20, CriuIngest.bufferBytes(64L << 20, 4L << 30));
        assertEquals(3L << 27, CriuIngest.bufferBytes(PageServerLimits.DEFAULT.ingestBufferBytes(), 1L << 29));
        assertEquals(0, CriuIngest.bufferBytes(0, 1L << 30), "0 turns the buffer off");
    }
}
