package dev.cairn.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class EncoderPoolTest {

    private static final byte[] PAGE = new byte[4096];

    static {
        for (int i = 0; i < PAGE.length; i++) {
            PAGE[i] = (byte) (i % 7);
        }
    }

    /** Runs {@code task} on a thread of the test's own, not one of the pool's. */
    private static <T> FutureTask<T> start(Callable<T> task) {
        FutureTask<T> f = new FutureTask<>(task);
        Thread t = new Thread(f, "encoder-pool-test");
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** Work that holds its encoder until {@code release} opens, after telling {@code lent}. */
    private static ChunkEncoder hold(ChunkEncoder encoder, CountDownLatch lent, CountDownLatch release) {
        lent.countDown();
        try {
            release.await();
        } catch (InterruptedException e) {
            throw new AssertionError("interrupted while holding an encoder", e);
        }
        return encoder;
    }

    /** Returns once {@code thread} waits on {@code monitor}'s wait set, or has ended. */
    private static void awaitWaitingOn(Object monitor, Thread thread) {
        String lock = monitor.getClass().getName() + '@' + Integer.toHexString(System.identityHashCode(monitor));
        while (thread.isAlive()) {
            ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(thread.getId());
            if (info != null && info.getThreadState() == Thread.State.WAITING && lock.equals(info.getLockName())) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void encodersOpenOnlyWhenBorrowedAndAreReused() throws Exception {
        try (EncoderPool pool = new EncoderPool("cairn-test", 2, ChunkEncoder.DEFAULT_LEVEL)) {
            for (int i = 0; i < 4; i++) {
                pool.submit(() -> ChunkId.of(PAGE)).get();
            }
            assertEquals(0, pool.opened(), "work that only hashes opens no zstd context");

            ChunkEncoder first = pool.withEncoder(e -> e);
            for (int i = 0; i < 5; i++) {
                ChunkData c = pool.withEncoder(e -> {
                    assertSame(first, e, "an idle encoder is lent again, not a new one opened");
                    return e.encode(PAGE, 0, PAGE.length);
                });
                assertEquals(ChunkCodec.ZSTD, c.codec());
                assertTrue(c.verify());
            }
            // One at a time from the pool's threads too: still the one encoder.
            for (int i = 0; i < 4; i++) {
                assertSame(first, pool.submit(() -> pool.withEncoder(e -> e)).get());
            }
            assertEquals(1, pool.opened());
        }
    }

    @Test
    void atMostThreadsEncodersAreLentAtOnceAndTheNextBorrowerWaits() throws Exception {
        try (EncoderPool pool = new EncoderPool("cairn-test", 2, ChunkEncoder.DEFAULT_LEVEL)) {
            CountDownLatch lent = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            FutureTask<ChunkEncoder> a = start(() -> pool.withEncoder(e -> hold(e, lent, release)));
            FutureTask<ChunkEncoder> b = start(() -> pool.withEncoder(e -> hold(e, lent, release)));
            lent.await();
            assertEquals(2, pool.opened());

            FutureTask<ChunkEncoder> third = new FutureTask<>(() -> pool.withEncoder(e -> e));
            Thread waiter = new Thread(third, "encoder-pool-test-waiter");
            waiter.setDaemon(true);
            waiter.start();
            awaitWaitingOn(pool, waiter);
            assertFalse(third.isDone(), "a third borrower waits while both encoders are lent");
            assertEquals(2, pool.opened(), "no encoder beyond one per thread");

            release.countDown();
            ChunkEncoder got = third.get(10, TimeUnit.SECONDS);
            assertTrue(got == a.get() || got == b.get(), "the waiter got one of the two lent encoders back");
            assertEquals(2, pool.opened());
        }
    }

    @Test
    void closeClosesIdleEncodersAtOnceAndLentOnesWhenTheyComeBack() throws Exception {
        EncoderPool pool = new EncoderPool("cairn-test", 2, ChunkEncoder.DEFAULT_LEVEL);
        CountDownLatch lent = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FutureTask<ChunkEncoder> holder = start(() -> pool.withEncoder(e -> hold(e, lent, release)));
        lent.await();
        ChunkEncoder idle = pool.withEncoder(e -> e);
        assertEquals(2, pool.opened());

        pool.close();
        assertThrows(IllegalStateException.class, () -> idle.encode(PAGE, 0, PAGE.length), "idle encoder closed");
        assertFalse(holder.isDone());

        release.countDown();
        ChunkEncoder returned = holder.get(10, TimeUnit.SECONDS);
        assertThrows(IllegalStateException.class, () -> returned.encode(PAGE, 0, PAGE.length),
                "an encoder that comes back after close is closed then");

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.withEncoder(x -> x));
        assertTrue(e.getMessage().contains("cairn-test") && e.getMessage().contains("closed"), e.getMessage());
        assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> { }));
        pool.close(); // a second close does nothing
    }

    /** Closing must not pull a native context from under the work using it. */
    @Test
    void aLentEncoderStillWorksAfterClose() throws Exception {
        EncoderPool pool = new EncoderPool("cairn-test", 1, ChunkEncoder.DEFAULT_LEVEL);
        CountDownLatch lent = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        FutureTask<ChunkData> holder = start(() -> pool.withEncoder(e -> {
            hold(e, lent, closed);
            return e.encode(PAGE, 0, PAGE.length); // its holder may finish with it
        }));
        lent.await();
        pool.close();
        closed.countDown();
        assertTrue(holder.get(10, TimeUnit.SECONDS).verify());
    }

    @Test
    void closeFailsABorrowerThatWaitsForAnEncoder() throws Exception {
        EncoderPool pool = new EncoderPool("cairn-test", 1, ChunkEncoder.DEFAULT_LEVEL);
        CountDownLatch lent = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FutureTask<ChunkEncoder> holder = start(() -> pool.withEncoder(e -> hold(e, lent, release)));
        lent.await();
        FutureTask<ChunkEncoder> waiting = new FutureTask<>(() -> pool.withEncoder(e -> e));
        Thread waiter = new Thread(waiting, "encoder-pool-test-waiter");
        waiter.setDaemon(true);
        waiter.start();
        awaitWaitingOn(pool, waiter);

        pool.close();
        ExecutionException failed = assertThrows(ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, failed.getCause());
        release.countDown();
        holder.get(10, TimeUnit.SECONDS);
        assertEquals(1, pool.opened());
    }

    @Test
    void workRunsOnNamedDaemonThreads() throws Exception {
        try (EncoderPool pool = new EncoderPool("cairn-test", 1, ChunkEncoder.DEFAULT_LEVEL)) {
            Thread t = pool.submit(Thread::currentThread).get();
            assertEquals("cairn-test-1", t.getName());
            assertTrue(t.isDaemon(), "a pool left open must not keep the JVM alive");
        }
    }

    @Test
    void aBadLevelOrNoThreadsIsRefusedAtConstruction() {
        assertThrows(IllegalArgumentException.class, () -> new EncoderPool("cairn-test", 1, 99));
        assertThrows(IllegalArgumentException.class, () -> new EncoderPool("cairn-test", 0, ChunkEncoder.DEFAULT_LEVEL));
    }
}
