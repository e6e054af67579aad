package dev.cairn.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Random;

/**
 * A real segment file whose writes and fsyncs fail the way a failing or full disk makes them fail:
 * short writes, ENOSPC after a byte budget (after a partial write, as write(2) does), EIO on fsync.
 * A test seam for {@link SegmentWriter.SegmentOpener}; every byte it accepts reaches the real file.
 */
final class FaultyFileChannel extends FileChannel {

    /** The faults, shared by every channel a test's opener hands out; change them at any time. */
    static final class Faults {
        volatile boolean failFsync;
        /** Bytes that may still be written before writes fail with ENOSPC; negative = unlimited. */
        volatile long spaceLeft = -1;
        /** When positive, each write call writes at most a random 1..maxWriteBytes bytes. */
        volatile int maxWriteBytes;
        final Random random;
        volatile int fsyncCalls;

        Faults(long seed) {
            this.random = new Random(seed);
        }

        SegmentWriter.SegmentOpener opener() {
            return (file, createNew) -> new FaultyFileChannel(SegmentWriter.FILES.open(file, createNew), this);
        }
    }

    private final FileChannel file;
    private final Faults faults;

    private FaultyFileChannel(FileChannel file, Faults faults) {
        this.file = file;
        this.faults = faults;
    }

    private int allowance(int wanted) throws IOException {
        int n = wanted;
        if (faults.maxWriteBytes > 0 && n > 0) {
            synchronized (faults.random) {
                n = Math.min(n, 1 + faults.random.nextInt(faults.maxWriteBytes));
            }
        }
        long space = faults.spaceLeft;
        if (space >= 0) {
            if (space == 0 && n > 0) {
                throw new IOException("No space left on device");
            }
            n = (int) Math.min(n, space);
            faults.spaceLeft = space - n;
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = allowance(src.remaining());
        ByteBuffer part = src.duplicate();
        part.limit(part.position() + n);
        int written = file.write(part);
        src.position(src.position() + written);
        return written;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        // One short write over the gathered buffers: at most what the first non-empty one allows.
        for (int i = offset; i < offset + length; i++) {
            if (srcs[i].hasRemaining()) {
                return write(srcs[i]);
            }
        }
        return 0;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        faults.fsyncCalls++;
        if (faults.failFsync) {
            throw new IOException("Input/output error");
        }
        file.force(metaData);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        file.truncate(size);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        throw new UnsupportedOperationException("the store never transfers into a segment");
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return file.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        int n = allowance(src.remaining());
        ByteBuffer part = src.duplicate();
        part.limit(part.position() + n);
        int written = file.write(part, position);
        src.position(src.position() + written);
        return written;
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return file.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
