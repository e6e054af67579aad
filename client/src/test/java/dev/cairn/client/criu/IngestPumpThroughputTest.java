package dev.cairn.client.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The pump alone over a real loopback socket, fed by a sender that talks as criu does (open,
 * pages in messages of up to 256 pages, close): it must hand on every byte unchanged, and, with
 * {@code -Dcairn.bench.pump=true}, it prints how fast criu's side finishes against a socket read
 * into nothing in the same run, and the pieces between (the socket into the buffer; the reader alone).
 */
class IngestPumpThroughputTest {

    private static final int PAGES_PER_MESSAGE = 256;
    private static final PagemapTarget TASK = new PagemapTarget(PagemapTarget.Kind.TASK, 100);

    @Test
    void pumpHandsOnEveryByteOfAConversationUnchanged() throws Exception {
        byte[] pages = pages(8 << 20);
        IngestBuffer buffer = new IngestBuffer(64L << 20);
        throughPump(pages, 3, buffer);
        assertEquals(conversationBytes(pages, 3), buffer.written(), "bytes into the buffer");
        DataInputStream in = new DataInputStream(buffer.input());
        byte[] header = new byte[PageServerCodec.HEADER_BYTES];
        in.readFully(header);
        assertArrayEquals(PageServerCodec.encode(PageServerMessage.open2(TASK)), header);
        for (int r = 0; r < 3; r++) {
            for (int at = 0; at < pages.length; at += PAGES_PER_MESSAGE * PageServerCodec.PAGE_BYTES) {
                in.readFully(header);
                byte[] got = new byte[Math.min(pages.length - at, PAGES_PER_MESSAGE * PageServerCodec.PAGE_BYTES)];
                in.readFully(got);
                assertArrayEquals(java.util.Arrays.copyOfRange(pages, at, at + got.length), got, "pages at " + at);
            }
        }
        in.readFully(header);
        assertArrayEquals(PageServerCodec.encode(PageServerMessage.close()), header);
        assertEquals(-1, in.read());
    }

    @Test
    void pumpAgainstASocketReadIntoNothing() throws Exception {
        assumeTrue(Boolean.getBoolean("cairn.bench.pump"), "a measurement: -Dcairn.bench.pump=true");
        int mb = Integer.getInteger("cairn.bench.pump.mb", 300);
        byte[] pages = pages(64 << 20);
        int rounds = Math.max(1, (mb << 20) / pages.length);
        for (int rep = 0; rep < 4; rep++) {
            long sink = throughSink(pages, rounds, null, false);
            IngestBuffer plain = new IngestBuffer(512L << 20);
            long sinkBuffer = throughSink(pages, rounds, plain, false);
            plain.abandon();
            long reader = throughSink(pages, rounds, null, true);
            System.out.printf("pieces rep %d: socket into the buffer %d ms, reader over BufferedInputStream %d ms%n",
                    rep, sinkBuffer, reader);
            IngestBuffer buffer = new IngestBuffer(512L << 20);
            long pump = throughPump(pages, rounds, buffer);
            double bytes = conversationBytes(pages, rounds);
            System.out.printf("pump rep %d: %d MB, socket into nothing %d ms (%.0f MB/s), pump %d ms (%.0f MB/s)%n",
                    rep, (long) bytes / 1_000_000, sink, bytes / 1000 / sink, pump, bytes / 1000 / pump);
            buffer.abandon();
        }
    }

    private static byte[] pages(int bytes) {
        byte[] pages = new byte[bytes];
        new Random(7).nextBytes(pages);
        return pages;
    }

    private static long conversationBytes(byte[] pages, int rounds) {
        int pagesPerRound = pages.length / PageServerCodec.PAGE_BYTES;
        long messages = 2 + (long) rounds * ((pagesPerRound + PAGES_PER_MESSAGE - 1) / PAGES_PER_MESSAGE);
        return messages * PageServerCodec.HEADER_BYTES + (long) rounds * pages.length;
    }

    /** Milliseconds criu's side takes from connecting to reading the close's answer, through the pump. */
    private static long throughPump(byte[] pages, int rounds, IngestBuffer buffer) throws Exception {
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0,
                PageServerLimits.DEFAULT)) {
            CompletableFuture<Long> criu = CompletableFuture.supplyAsync(() -> send(listener.port(), pages, rounds));
            try (Socket socket = listener.accept(Duration.ofSeconds(10))) {
                Thread pump = IngestPump.start(socket.getInputStream(), socket.getOutputStream(),
                        PageServerLimits.DEFAULT, buffer);
                long millis = criu.get(60, TimeUnit.SECONDS);
                pump.join(10_000);
                return millis;
            }
        }
    }

    /** The same, with the connection read into nothing, into {@code buffer} when not null, or by the reader alone. */
    private static long throughSink(byte[] pages, int rounds, IngestBuffer buffer, boolean parse) throws Exception {
        try (PageServerListener listener = PageServerListener.bind(InetAddress.getLoopbackAddress(), 0,
                PageServerLimits.DEFAULT)) {
            CompletableFuture<Long> criu = CompletableFuture.supplyAsync(() -> send(listener.port(), pages, rounds));
            try (Socket socket = listener.accept(Duration.ofSeconds(10))) {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                byte[] buf = new byte[256 * 1024];
                long total = conversationBytes(pages, rounds);
                long got = 0;
                boolean opened = false;
                if (parse) {
                    readMessages(in, out);
                    got = total;
                }
                while (got < total) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    got += n;
                    if (buffer != null) {
                        buffer.write(buf, 0, n);
                    }
                    if (!opened && got >= PageServerCodec.HEADER_BYTES) {
                        out.write(PageServerCodec.openAnswer(false));
                        opened = true;
                    }
                }
                out.write(PageServerCodec.closeAnswer(0));
                return criu.get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** The pump's reading side alone: every message parsed and every page copied out, nothing kept. */
    private static void readMessages(InputStream in, OutputStream out) throws IOException {
        PageServerReader r = new PageServerReader(new java.io.BufferedInputStream(in, 256 * 1024),
                PageServerLimits.DEFAULT);
        byte[] page = new byte[PageServerCodec.PAGE_BYTES];
        for (PageServerMessage m; (m = r.next()) != null; ) {
            while (r.pagesLeft() > 0) {
                r.readPage(page);
            }
            if (m.command() == PageServerCommand.OPEN2) {
                out.write(PageServerCodec.openAnswer(false));
            } else if (m.command() == PageServerCommand.CLOSE) {
                return;
            }
        }
    }

    private static long send(int port, byte[] pages, int rounds) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            long t0 = System.nanoTime();
            OutputStream out = s.getOutputStream();
            DataInputStream answers = new DataInputStream(s.getInputStream());
            out.write(PageServerCodec.encode(PageServerMessage.open2(TASK)));
            answers.readFully(new byte[1]);
            long vaddr = 0x7f00_0000_0000L;
            for (int r = 0; r < rounds; r++) {
                for (int at = 0; at < pages.length; at += PAGES_PER_MESSAGE * PageServerCodec.PAGE_BYTES) {
                    int len = Math.min(pages.length - at, PAGES_PER_MESSAGE * PageServerCodec.PAGE_BYTES);
                    out.write(PageServerCodec.encode(PageServerMessage.addF(TASK, vaddr,
                            len / PageServerCodec.PAGE_BYTES, PageFlags.PRESENT)));
                    out.write(pages, at, len);
                    vaddr += len;
                }
            }
            out.write(PageServerCodec.encode(PageServerMessage.close()));
            answers.readFully(new byte[4]);
            return (System.nanoTime() - t0) / 1_000_000;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
