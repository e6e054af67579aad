package dev.cairn.client.criu;

import dev.cairn.client.CairnClient;
import dev.cairn.client.ProgressListener;
import dev.cairn.client.PutResult;
import dev.cairn.engine.image.ImageBuilder;
import dev.cairn.engine.image.SourceException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;

/**
 * Stores one CRIU dump as one image: the pages and pagemaps that arrive over the page-server
 * connection, then the rest of the dump (the files criu wrote to its {@code -D} directory), and
 * commits once at the end. A connection that ends early or breaks the protocol, or a rest that
 * cannot be read, commits nothing. The connection is read into a bounded memory buffer as fast
 * as criu sends ({@link IngestPump}, {@link PageServerLimits#ingestBufferBytes()}), so criu's
 * freeze does not wait for the store; past the buffer, criu waits for the upload.
 */
public final class CriuIngest {

    /** What joins the image after criu's close: opened only once every page has arrived. */
    public interface RestOfDump {
        /** The remaining entries; for {@code criu dump}, waits for criu to exit and walks its directory. */
        ImageBuilder.EntrySource open() throws IOException;
    }

    private CriuIngest() {}

    /** Reads {@code connection} (closing it) and {@code rest} into image {@code name}. */
    public static PutResult ingest(CairnClient client, String name, Socket connection, RestOfDump rest,
                                   PageServerLimits limits, ProgressListener progress) throws IOException {
        long bytes = bufferBytes(limits.ingestBufferBytes(), Runtime.getRuntime().maxMemory());
        return ingest(client, name, connection, rest, limits, progress, bytes > 0 ? new IngestBuffer(bytes) : null);
    }

    /**
     * The ingest buffer a dump gets: the configured bound, within three quarters of {@code maxMemory},
     * which is also the JVM's default limit for the memory outside the heap that the buffer takes.
     * Half of it, as before, gave the agent (512 MiB heap) 227 MiB, less than a 301 MB dump: criu sent
     * the rest at the store's speed, frozen 1.4-2.1 s against 0.7-1.4 s with the whole dump buffered. The
     * last quarter stays for the sockets' own buffers outside the heap.
     */
    static long bufferBytes(long configured, long maxMemory) {
        return Math.min(configured, maxMemory / 4 * 3);
    }

    /** As above, through {@code buffer}, or reading the connection only as the upload asks when it is null. */
    static PutResult ingest(CairnClient client, String name, Socket connection, RestOfDump rest,
                            PageServerLimits limits, ProgressListener progress, IngestBuffer buffer) throws IOException {
        try (Socket socket = connection) {
            PageServerDump dump;
            if (buffer == null) {
                InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
                dump = new PageServerDump(in, socket.getOutputStream(), limits);
            } else {
                IngestPump.start(socket.getInputStream(), socket.getOutputStream(), limits, buffer);
                dump = new PageServerDump(buffer.input(), OutputStream.nullOutputStream(), limits);
            }
            try {
                return upload(client, name, dump, rest, progress);
            } finally {
                if (buffer != null) {
                    buffer.abandon(); // a pump still reading stops at its next write
                }
            }
        }
    }

    private static PutResult upload(CairnClient client, String name, PageServerDump dump, RestOfDump rest,
                                    ProgressListener progress) {
        return client.putEntries(name, new ImageBuilder.EntrySource() {
            private ImageBuilder.EntrySource after;

            @Override
            public ImageBuilder.StreamedEntry next() throws IOException {
                if (after == null) {
                    ImageBuilder.StreamedEntry e = dump.next();
                    if (e != null) {
                        return e;
                    }
                    after = rest.open();
                }
                return after.next();
            }
        }, progress);
    }

    /** The files, directories and symlinks of {@code dir}, in canonical order, each file opened when it is read. */
    public static ImageBuilder.EntrySource directory(Path dir) throws SourceException {
        Iterator<ImageBuilder.DirectoryEntry> walk = ImageBuilder.walk(dir).iterator();
        return () -> {
            if (!walk.hasNext()) {
                return null;
            }
            ImageBuilder.DirectoryEntry e = walk.next();
            return new ImageBuilder.StreamedEntry(e.path(), e.type(), e.mode(), e.linkTarget(),
                    e.type() == dev.cairn.engine.manifest.FileType.REGULAR
                            ? Files.newInputStream(e.file(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)
                            : null);
        };
    }
}
