package dev.cairn.server.meta;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Session reads waiting for a catalog replica to apply a log index, released as the applied
 * index moves on.
 *
 * <p>Each wait has its own future, dropped when it times out, so requests for indexes this
 * replica never reaches (a forged index, another cluster's) leave nothing behind.
 * (BaseStateMachine's own stale-read wait does not complete its futures when the applied index
 * moves on, in Ratis 3.3.0.)
 */
final class AppliedIndexWaiters {

    /** Waiting futures by the index they wait for. */
    private final TreeMap<Long, List<CompletableFuture<Void>>> waiters = new TreeMap<>();
    /** The replica's applied index; read under the lock, so a wait and a release never miss each other. */
    private final LongSupplier appliedIndex;

    AppliedIndexWaiters(LongSupplier appliedIndex) {
        this.appliedIndex = appliedIndex;
    }

    /** Completes once {@code index} is applied, or fails with a TimeoutException after {@code timeout}. */
    CompletableFuture<Void> await(long index, Duration timeout) {
        CompletableFuture<Void> waiter = new CompletableFuture<>();
        synchronized (waiters) {
            if (appliedIndex.getAsLong() >= index) {
                return CompletableFuture.completedFuture(null);
            }
            waiters.computeIfAbsent(index, k -> new ArrayList<>()).add(waiter);
        }
        waiter.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            if (e != null) {
                synchronized (waiters) {
                    List<CompletableFuture<Void>> same = waiters.get(index);
                    if (same != null && same.remove(waiter) && same.isEmpty()) {
                        waiters.remove(index);
                    }
                }
            }
        });
        return waiter;
    }

    /** Completes every wait for an index up to {@code applied}; call after the applied index moved there. */
    void release(long applied) {
        List<CompletableFuture<Void>> released = new ArrayList<>();
        synchronized (waiters) {
            SortedMap<Long, List<CompletableFuture<Void>>> reached = waiters.headMap(applied + 1);
            reached.values().forEach(released::addAll);
            reached.clear();
        }
        released.forEach(f -> f.complete(null)); // outside the lock: completions run the reads
    }

    /** How many waits are pending. */
    int size() {
        synchronized (waiters) {
            return waiters.values().stream().mapToInt(List::size).sum();
        }
    }
}
