package dev.cairn.client.criu;

import dev.cairn.engine.manifest.FileEntry;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;

/**
 * The pages of one lazy restore read from the store ahead of lazy-pages' requests: after each
 * answer, the next pages of that {@code pages-N.img} are fetched in batches in the background (criu's
 * background transfer asks for them in order), and a later request is answered from memory. A
 * page leaves memory once sent, since each page is sent once per restore. One per conversation and
 * used by its thread only; what it holds is counted against a {@link Budget} shared by every
 * restore the server answers, so the server's memory stays bounded whatever the number of restores.
 *
 * <p>A request for pages no batch holds, or whose batch is still queued, is read at once on the
 * conversation's thread, only its own pages (a fault goes first, and does not wait for a 1 MiB
 * read); one whose batch is being read waits for that read.
 */
final class ReadAhead implements AutoCloseable {

    /** Pages per background read: 1 MiB, one fetch of 256 page chunks from the cluster. */
    static final int BATCH_PAGES = 256;
    /** Batches one restore keeps ahead of its last request: 16 MiB, if the budget has room. */
    static final int WINDOW_BATCHES = 16;
    /**
     * How far past a recent request's end a request may start and still go on from it: a process
     * reading its memory with a stride (every tenth page, in the benchmark) faults a few pages at
     * a time, and the pages between are sent later by the background walk anyway.
     */
    static final int STRIDE_PAGES = 64;

    /** Page bytes held read ahead over all the restores of one server, at most {@code limit}. */
    static final class Budget {
        private final long limit;
        private long held;
        private long peak;
        private int restores;

        Budget(long limitBytes) {
            this.limit = limitBytes;
        }

        synchronized void join() {
            restores++;
        }

        synchronized void leave() {
            restores--;
        }

        /** Pages one restore may keep ahead: its share of the bound, so one restore cannot starve the others. */
        synchronized long sharePages() {
            return limit / PageServerCodec.PAGE_BYTES / Math.max(1, restores);
        }

        synchronized boolean tryTake(long bytes) {
            if (held + bytes > limit) {
                return false;
            }
            held += bytes;
            peak = Math.max(peak, held);
            return true;
        }

        synchronized void give(long bytes) {
            held -= bytes;
        }

        synchronized long held() {
            return held;
        }

        synchronized long peak() {
            return peak;
        }

        long limit() {
            return limit;
        }
    }

    /** Pages {@code [first, first + pages)} of a pages file, read by whichever thread runs it first. */
    private static final class Batch extends FutureTask<byte[]> {
        final long first;
        final int pages;
        /** Pages of the batch this restore has yet to be sent. */
        int unsent;
        /** Set when a background thread begins the read: a request then waits for it rather than read again. */
        volatile boolean started;

        Batch(StoredImage image, FileEntry file, long first, int pages, int unsent) {
            super(() -> image.read(file, first * PageServerCodec.PAGE_BYTES, pages * PageServerCodec.PAGE_BYTES));
            this.first = first;
            this.pages = pages;
            this.unsent = unsent;
        }

        @Override
        public void run() {
            started = true;
            super.run();
        }

        long end() {
            return first + pages;
        }
    }

    /** What this restore has been sent of one pages file, and the batches read ahead of it. */
    private static final class FileState {
        final FileEntry file;
        final long pageCount;
        final BitSet sent = new BitSet();
        final NavigableMap<Long, Batch> batches = new TreeMap<>();
        /** Where the last few requests ended: a request that goes on from one of them is a walk. */
        final long[] recentEnds = {-1, -1, -1, -1};
        int nextEnd;
        /** Whether the last request went on from the first unsent page or from an earlier request. */
        boolean walking;

        FileState(FileEntry file, StoredPagemap pagemap) {
            this.file = file;
            this.pageCount = file.size() / PageServerCodec.PAGE_BYTES;
            // Present pages that are not lazy are restored by criu restore itself from the local
            // directory; lazy-pages never asks for them, so they count as sent and are never read ahead.
            for (StoredPagemap.Entry e : pagemap.entries()) {
                if (PageFlags.present(e.flags()) && (e.flags() & PageFlags.LAZY) == 0) {
                    sent.set((int) e.firstPage(), (int) Math.min(pageCount, e.firstPage() + e.nrPages()));
                }
            }
        }
    }

    private final StoredImage image;
    private final Executor pool;
    private final Budget budget;
    private final Map<String, FileState> files = new HashMap<>();
    private long pagesFromMemory;

    ReadAhead(StoredImage image, Executor pool, Budget budget) {
        this.image = image;
        this.pool = pool;
        this.budget = budget;
        budget.join();
    }

    /** Pages of this restore's answers that were taken from memory read ahead. */
    long pagesFromMemory() {
        return pagesFromMemory;
    }

    /**
     * Pages {@code [first, first + pages)} of {@code file} (of {@code pagemap}), from memory where a
     * batch holds them, else read now; marks them sent. Throws the store's error when a page cannot be read.
     */
    byte[] read(FileEntry file, StoredPagemap pagemap, long first, int pages) {
        FileState state = state(file, pagemap);
        state.walking = walks(state, first);
        state.recentEnds[state.nextEnd++ % state.recentEnds.length] = first + pages;
        byte[] out = new byte[pages * PageServerCodec.PAGE_BYTES];
        long page = first;
        long end = first + pages;
        while (page < end) {
            Map.Entry<Long, Batch> at = state.batches.floorEntry(page);
            Batch batch = at == null || at.getValue().end() <= page ? null : at.getValue();
            long stop;
            if (batch == null) {
                Map.Entry<Long, Batch> next = state.batches.higherEntry(page);
                stop = next == null ? end : Math.min(end, next.getKey());
                readNow(file, page, stop, out, page - first);
            } else if (!batch.started) { // still queued: read only these pages now, the batch stays for the rest
                stop = Math.min(end, batch.end());
                readNow(file, page, stop, out, page - first);
                sentFrom(state, batch, page, stop);
            } else {
                stop = Math.min(end, batch.end());
                byte[] bytes = take(batch);
                if (bytes == null) { // its read failed: read these pages now, and say why if that fails too
                    evict(state, batch);
                    readNow(file, page, stop, out, page - first);
                } else {
                    pagesFromMemory += stop - page;
                    copy(bytes, page - batch.first, out, page - first, stop - page);
                    sentFrom(state, batch, page, stop);
                }
            }
            state.sent.set((int) page, (int) stop);
            page = stop;
        }
        return out;
    }

    /**
     * Starts background reads of the pages after {@code from} in {@code file} that this restore has
     * not been sent and no batch holds, when the last request was part of a walk through the pages
     * (criu's background transfer, or a process reading with a stride) rather than a lone fault
     * elsewhere, whose neighbours would take the room the walk needs. Reads at most {@link
     * #WINDOW_BATCHES} batches ahead, and this restore's share of the budget.
     */
    void readAfter(FileEntry file, StoredPagemap pagemap, long from) {
        FileState state = state(file, pagemap);
        if (!state.walking) {
            return;
        }
        long page = from;
        long window = from + Math.min((long) WINDOW_BATCHES * BATCH_PAGES, budget.sharePages());
        while (page < state.pageCount && page < window) {
            Map.Entry<Long, Batch> at = state.batches.floorEntry(page);
            if (at != null && at.getValue().end() > page) {
                page = at.getValue().end();
                continue;
            }
            int unsentFrom = state.sent.nextClearBit((int) page);
            if (unsentFrom >= state.pageCount) {
                return;
            }
            page = unsentFrom;
            Map.Entry<Long, Batch> next = state.batches.higherEntry(page);
            long stop = Math.min(Math.min(page + BATCH_PAGES, state.pageCount), next == null ? Long.MAX_VALUE : next.getKey());
            stop = Math.min(stop, page + budget.limit() / PageServerCodec.PAGE_BYTES); // a budget smaller than a batch
            int pages = (int) (stop - page);
            if (pages <= 0) {
                return;
            }
            if (!budget.tryTake((long) pages * PageServerCodec.PAGE_BYTES)) {
                return;
            }
            Batch batch = new Batch(image, file, page, pages, countUnsent(state, page, stop));
            state.batches.put(page, batch);
            pool.execute(batch);
            page = stop;
        }
    }

    /** Drops every batch and returns its bytes to the budget: the restore ended. */
    @Override
    public void close() {
        for (FileState state : files.values()) {
            for (Batch b : state.batches.values().toArray(new Batch[0])) {
                evict(state, b);
            }
        }
        files.clear();
        budget.leave();
    }

    /**
     * True when a request from {@code first} goes on where the pages sent so far end, or where a
     * recent request ended (skipping pages sent since, or within a stride), or into pages read ahead.
     */
    private static boolean walks(FileState state, long first) {
        if (state.sent.nextClearBit(0) == first) {
            return true;
        }
        Map.Entry<Long, Batch> at = state.batches.floorEntry(first);
        if (at != null && at.getValue().end() > first) {
            return true;
        }
        for (long end : state.recentEnds) {
            if (end >= 0 && end <= first && (first - end <= STRIDE_PAGES || state.sent.nextClearBit((int) end) == first)) {
                return true;
            }
        }
        return false;
    }

    private FileState state(FileEntry file, StoredPagemap pagemap) {
        return files.computeIfAbsent(file.path(), p -> new FileState(file, pagemap));
    }

    /** The bytes of a batch a background thread has started reading; null when the read failed. */
    private static byte[] take(Batch batch) {
        try {
            return batch.get();
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Pages {@code [from, to)} of {@code file} read from the store now, into {@code out} from page {@code at}. */
    private void readNow(FileEntry file, long from, long to, byte[] out, long at) {
        copy(image.read(file, from * PageServerCodec.PAGE_BYTES, (int) (to - from) * PageServerCodec.PAGE_BYTES),
                0, out, at, to - from);
    }

    /** Pages {@code [from, to)} of {@code batch} are being sent: the batch leaves once all of its are. */
    private void sentFrom(FileState state, Batch batch, long from, long to) {
        batch.unsent -= countUnsent(state, from, to);
        if (batch.unsent <= 0) {
            evict(state, batch);
        }
    }

    private void evict(FileState state, Batch batch) {
        if (state.batches.remove(batch.first, batch)) {
            batch.cancel(false);
            budget.give((long) batch.pages * PageServerCodec.PAGE_BYTES);
        }
    }

    private static int countUnsent(FileState state, long from, long to) {
        return (int) (to - from) - state.sent.get((int) from, (int) to).cardinality();
    }

    private static void copy(byte[] from, long fromPage, byte[] to, long toPage, long pages) {
        System.arraycopy(from, (int) (fromPage * PageServerCodec.PAGE_BYTES), to, (int) (toPage * PageServerCodec.PAGE_BYTES),
                (int) (pages * PageServerCodec.PAGE_BYTES));
    }
}
