package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The ingest buffer when the memory outside the heap runs out (several dumps in one agent share
 * the JVM's limit): the dump goes on at the reader's pace with every byte intact, or, with nothing
 * to drain, fails with a line that says what to change.
 */
class IngestBufferMemoryTest {

    private static final int SEGMENT = 1 << 20;

    @Test
    void aWriterOutOfSegmentsWaitsForTheReaderAndEveryByteArrives() {
        byte[] stream = new byte[8 * SEGMENT + 12_345];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = (byte) (i * 31 + (i >>> 13));
        }
        AtomicInteger allocated = new AtomicInteger();
        IngestBuffer buffer = new IngestBuffer(64L * SEGMENT, segmentsAtMost(2, allocated));

        byte[] read = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int off = 0; off < stream.length; off += 100_000) {
                        buffer.write(stream, off, Math.min(100_000, stream.length - off));
                    }
                    buffer.end();
                } catch (IOException e) {
                    buffer.fail(e);
                }
            });
            byte[] all = readAll(buffer.input());
            writer.join();
            return all;
        });

        assertArrayEquals(stream, read);
        assertEquals(2, allocated.get(), "only the two segments the memory allowed were allocated");
    }

    @Test
    void noMemoryForTheFirstSegmentIsAClearError() {
        IngestBuffer buffer = new IngestBuffer(64L * SEGMENT, segmentsAtMost(0, new AtomicInteger()));

        IOException e = assertThrows(IOException.class, () -> buffer.write(new byte[4096], 0, 4096));

        assertTrue(e.getMessage().contains("pageServer.ingestBufferBytes"), e.getMessage());
    }

    /** Allocates {@code most} segments on the heap, then fails as allocateDirect does at its limit. */
    private static IntFunction<ByteBuffer> segmentsAtMost(int most, AtomicInteger allocated) {
        return bytes -> {
            if (allocated.get() >= most) {
                throw new OutOfMemoryError("Cannot reserve " + bytes + " bytes of direct buffer memory");
            }
            allocated.incrementAndGet();
            return ByteBuffer.allocate(bytes);
        };
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] piece = new byte[70_000];
        for (int n; (n = in.read(piece, 0, piece.length)) >= 0; ) {
            out.write(piece, 0, n);
        }
        return out.toByteArray();
    }
}
