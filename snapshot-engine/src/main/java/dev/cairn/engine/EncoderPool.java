package dev.cairn.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A fixed number of worker threads and the {@link ChunkEncoder}s they share: what the chunk
 * pipeline and the client's chunk writer both need to compress in parallel.
 *
 * <p>An encoder holds a native zstd context, so the pool opens one only when work asks for it and
 * none is free, never more than it has threads, and keeps it for the next work: a pool whose work
 * only hashes opens no context at all. Work may borrow an encoder from any thread; past
 * {@code threads} borrowers at once, the next one waits for an encoder to come back.
 *
 * <p>The threads are daemons named {@code name-1}, {@code name-2}, …: a pool left open does not
 * keep the JVM alive, and a thread dump says whose threads they are.
 */
public final class EncoderPool implements Executor, AutoCloseable {

    /** How long {@link #close} waits for work already running to end. */
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final String name;
    private final int level;
    private final int size;
    private final ExecutorService threads;
    // idle, opened and closed are guarded by this. The encoder given back last is lent first:
    // its scratch buffer has grown already.
    private final ArrayDeque<ChunkEncoder> idle = new ArrayDeque<>();
    private int opened;
    private boolean closed;

    /**
     * @param name prefix of the thread names
     * @param threads worker threads, and the most encoders the pool opens
     * @param zstdLevel level of every encoder; checked here, not when the first encoder opens on a worker
     */
    public EncoderPool(String name, int threads, int zstdLevel) {
        if (threads < 1) {
            throw new IllegalArgumentException("need at least one thread, got " + threads);
        }
        this.name = name;
        this.level = ChunkEncoder.checkLevel(zstdLevel);
        this.size = threads;
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs {@code task} on one of the pool's threads. */
    @Override
    public void execute(Runnable task) {
        threads.execute(task);
    }

    /** Runs {@code task} on one of the pool's threads. */
    public <T> Future<T> submit(Callable<T> task) {
        return threads.submit(task);
    }

    /**
     * Runs {@code work} with an encoder that no one else uses meanwhile, and takes the encoder back
     * after. {@code work} must not keep the encoder, nor borrow a second one (with every encoder
     * lent, it would wait for itself).
     *
     * @throws InterruptedException if interrupted while every encoder is lent
     * @throws IllegalStateException if the pool is closed
     */
    public <T> T withEncoder(Function<ChunkEncoder, T> work) throws InterruptedException {
        ChunkEncoder encoder = borrow();
        try {
            return work.apply(encoder);
        } finally {
            giveBack(encoder);
        }
    }

    /** Encoders opened so far (native zstd contexts); at most the number of threads. */
    public synchronized int opened() {
        return opened;
    }

    private synchronized ChunkEncoder borrow() throws InterruptedException {
        while (true) {
            if (closed) {
                throw new IllegalStateException("encoder pool " + name + " is closed");
            }
            ChunkEncoder encoder = idle.pollFirst();
            if (encoder != null) {
                return encoder;
            }
            if (opened < size) {
                encoder = new ChunkEncoder(level);
                opened++;
                return encoder;
            }
            wait();
        }
    }

    private void giveBack(ChunkEncoder encoder) {
        synchronized (this) {
            if (!closed) {
                idle.addFirst(encoder);
                notify();
                return;
            }
        }
        encoder.close(); // the pool closed while it was lent: no one else will close it
    }

    /**
     * Stops the threads (work not started never runs; running work is interrupted), closes the
     * idle encoders, and waits a bounded time for running work to end. An encoder lent at that
     * moment is closed when it comes back, so each is closed once, by whoever holds it last.
     * Later borrowing fails. Not to be called from one of the pool's threads.
     */
    @Override
    public void close() {
        threads.shutdownNow();
        List<ChunkEncoder> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(idle);
            idle.clear();
            notifyAll(); // borrowers waiting for an encoder fail now
        }
        toClose.forEach(ChunkEncoder::close);
        try {
            threads.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
