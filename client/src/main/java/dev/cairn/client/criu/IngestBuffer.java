package dev.cairn.client.criu;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.function.IntFunction;

/**
 * A bounded in-memory pipe between the thread that reads criu's page-server connection and the
 * upload that stores what it read: the writer blocks only while {@code limit} bytes wait unread,
 * so criu sends at memory speed while they fit and at the store's speed past them. Nothing is
 * written to disk. The reader gets every byte written before the writer's end or failure, then
 * the end or that failure.
 *
 * <p>The reader starts only once the writer has ended or the pipe has filled: on a machine whose
 * cores the upload keeps busy (hashing, compressing, three replicas), an upload running beside the
 * read slowed it, and with it criu's freeze, several times over. Past the first fill the two run
 * side by side, as without the pipe.
 */
final class IngestBuffer {

    /**
     * Bytes per segment, allocated outside the Java heap: a buffer filling with hundreds of MB that
     * all stay live made the collector copy them again at each young collection (a second of pauses
     * for 300 MB, measured), while criu waited. 1 MiB keeps the allocations few.
     */
    private static final int SEGMENT_BYTES = 1 << 20;

    private final long limit;
    private final IntFunction<ByteBuffer> allocator;
    private final ArrayDeque<ByteBuffer> segments = new ArrayDeque<>();
    /**
     * Segments the reader has emptied, used again before any new one: memory outside the heap is
     * returned only when the collector runs, so a dump larger than the buffer would otherwise
     * allocate its whole size there.
     */
    private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
    private int headRead;
    private int tailWritten = SEGMENT_BYTES;
    private long held;
    private long peak;
    private long written;
    private boolean ended;
    private IOException failure;
    private boolean abandoned;
    /** Set once the writer had to wait, or ended: from then on the reader takes what is there. */
    private boolean draining;

    /** A pipe holding at most {@code limitBytes} unread (at least one page's worth is always let through). */
    IngestBuffer(long limitBytes) {
        this(limitBytes, ByteBuffer::allocateDirect);
    }

    /** As above, taking new segments from {@code allocator} (a test's, to run out of memory on cue). */
    IngestBuffer(long limitBytes, IntFunction<ByteBuffer> allocator) {
        this.limit = Math.max(PageServerCodec.PAGE_BYTES, limitBytes);
        this.allocator = allocator;
    }

    /** The most bytes this pipe lets wait unread. */
    long limit() {
        return limit;
    }

    /** The most bytes that waited unread at once so far. */
    synchronized long peak() {
        return peak;
    }

    /** Bytes written so far. */
    synchronized long written() {
        return written;
    }

    /** True once the writer has ended (cleanly or not). */
    synchronized boolean ended() {
        return ended || failure != null;
    }

    /** Adds {@code len} bytes, waiting while the pipe is full; fails once the reader has abandoned it. */
    synchronized void write(byte[] b, int off, int len) throws IOException {
        while (!abandoned && held > 0 && held + len > limit) {
            if (!draining) {
                draining = true;
                notifyAll();
            }
            await();
        }
        if (abandoned) {
            throw new IOException("the upload of the dump stopped; criu's stream is no longer read");
        }
        for (int done = 0; done < len; ) {
            if (tailWritten == SEGMENT_BYTES) {
                ByteBuffer next = nextSegment();
                segments.addLast(next);
                tailWritten = 0;
            }
            int n = Math.min(len - done, SEGMENT_BYTES - tailWritten);
            segments.peekLast().put(tailWritten, b, off + done, n);
            tailWritten += n;
            done += n;
            // counted piece by piece, so that a wait for a segment below leaves the reader a
            // consistent pipe to drain
            held += n;
            written += n;
        }
        peak = Math.max(peak, held);
        notifyAll();
    }

    /**
     * A segment to write into: an emptied one, else a new one; when the memory outside the heap is
     * used up (several dumps at once in one agent share the JVM's limit), the writer waits for the
     * reader to empty one, so the dump goes on at the store's speed instead of failing or hanging.
     */
    private ByteBuffer nextSegment() throws IOException {
        while (true) {
            ByteBuffer reused = spare.pollFirst();
            if (reused != null) {
                return reused;
            }
            if (abandoned) {
                throw new IOException("the upload of the dump stopped; criu's stream is no longer read");
            }
            try {
                return allocator.apply(SEGMENT_BYTES);
            } catch (OutOfMemoryError e) {
                if (held == 0) {
                    throw new IOException("no memory is left outside the Java heap for the dump's pages (other dumps"
                            + " in this JVM hold it); lower pageServer.ingestBufferBytes, run fewer dumps at once, or"
                            + " give the JVM more (-XX:MaxDirectMemorySize)");
                }
                draining = true;
                notifyAll();
                await();
            }
        }
    }

    /** The writer is done: the reader sees the end after the last byte. */
    synchronized void end() {
        ended = true;
        notifyAll();
    }

    /** The writer failed: the reader gets {@code e} after the last byte written. */
    synchronized void fail(IOException e) {
        if (failure == null) {
            failure = e;
        }
        notifyAll();
    }

    /** The reader stops: a waiting or later write fails, and the bytes held are dropped. */
    synchronized void abandon() {
        abandoned = true;
        segments.clear();
        spare.clear();
        held = 0;
        notifyAll();
    }

    /** The reading side. */
    InputStream input() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return take(b, off, len);
            }
        };
    }

    private synchronized int take(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while ((held == 0 || !draining) && !ended && failure == null && !abandoned) {
            await();
        }
        if (held == 0) {
            if (failure != null) {
                throw failure;
            }
            return -1;
        }
        ByteBuffer head = segments.peekFirst();
        int available = segments.size() == 1 ? tailWritten - headRead : SEGMENT_BYTES - headRead;
        int n = Math.min(len, available);
        head.get(headRead, b, off, n);
        headRead += n;
        held -= n;
        if (headRead == SEGMENT_BYTES || (segments.size() == 1 && headRead == tailWritten)) {
            spare.addLast(segments.pollFirst());
            headRead = 0;
            if (segments.isEmpty()) {
                tailWritten = SEGMENT_BYTES;
            }
        }
        notifyAll();
        return n;
    }

    private void await() throws InterruptedIOException {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the dump's pages were buffered");
        }
    }
}
