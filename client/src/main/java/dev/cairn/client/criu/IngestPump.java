package dev.cairn.client.criu;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Reads a dump's page-server connection as fast as criu sends it into an {@link IngestBuffer},
 * and answers criu from there: criu sends its pages while the process tree is frozen, so the
 * freeze no longer waits for the store. Every byte read goes into the buffer unchanged, and the
 * upload parses it again ({@link PageServerDump}, its answers discarded): what is stored, and what
 * is refused, is the same as without the buffer. The pump answers criu's {@code PS_IOV_OPEN2}
 * (no parent), {@code PS_IOV_PARENT} (none) and close (0) as CRIU's own server does; the image
 * still commits only once the upload has stored every page and criu has exited 0.
 */
final class IngestPump {

    /** Bytes asked of the socket per read. */
    private static final int READ_BYTES = 256 * 1024;

    private IngestPump() {}

    /** Starts reading {@code in} (the socket's own stream) into {@code buffer} on a thread of its own, answering on {@code answers}. */
    static Thread start(InputStream in, OutputStream answers, PageServerLimits limits, IngestBuffer buffer) {
        Thread t = new Thread(() -> pump(in, answers, limits, buffer), "cairn-page-server-read");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void pump(InputStream in, OutputStream answers, PageServerLimits limits, IngestBuffer buffer) {
        // The copy into the buffer sits under the read buffer: one copy per socket read, not per page.
        PageServerReader reader = new PageServerReader(new BufferedInputStream(new FilterInputStream(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n;
                try {
                    n = super.read(b, off, len);
                } catch (java.net.SocketException e) {
                    // criu died with answers unread (the kernel resets the connection): for the dump
                    // that is an end like any other, reported by the reader as where criu stopped
                    return -1;
                }
                if (n > 0) {
                    buffer.write(b, off, n);
                }
                return n;
            }
        }, READ_BYTES), limits);
        byte[] page = new byte[PageServerCodec.PAGE_BYTES];
        try {
            for (PageServerMessage m; (m = reader.next()) != null; ) {
                while (reader.pagesLeft() > 0) {
                    reader.readPage(page);
                }
                switch (m.command()) {
                    case OPEN2 -> answer(answers, PageServerCodec.openAnswer(false));
                    case PARENT -> answer(answers, PageServerCodec.parentAnswer(false));
                    case CLOSE, FORCE_CLOSE -> {
                        answer(answers, PageServerCodec.closeAnswer(0));
                        buffer.end();
                        return;
                    }
                    default -> { } // pages and holes need no answer
                }
            }
            buffer.end();
        } catch (IOException e) {
            buffer.fail(e);
        } catch (RuntimeException e) {
            buffer.fail(new IOException(e.getMessage(), e));
        }
    }

    private static void answer(OutputStream answers, byte[] bytes) throws IOException {
        answers.write(bytes);
        answers.flush();
    }
}
