package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * When the upload may start taking from the ingest buffer: once half its bound waits, not only once
 * it is full, so a dump larger than the buffer is uploaded while it still streams in.
 */
class IngestBufferStartTest {

    @Test
    void theReaderStartsOnceHalfTheBoundWaitsWhileTheWriterGoesOn() throws Exception {
        IngestBuffer buffer = new IngestBuffer(1 << 20);
        byte[] half = new byte[512 * 1024];
        half[0] = 42;
        buffer.write(half, 0, half.length);
        InputStream in = buffer.input();
        CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> {
            try {
                return in.read();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        // bounded: before the fix the reader waited for the pipe to fill or the writer to end
        assertEquals(42, first.get(10, TimeUnit.SECONDS));
        assertEquals(false, buffer.ended(), "the writer has not ended");
        buffer.abandon();
    }
}
