package dev.cairn.server.store;

import static dev.cairn.server.store.TestChunks.pages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write path of a PUT, mark then append: what is marked, and how long the marker's hold lasts. */
class ChunkStoreWritePathTest {

    @TempDir
    Path dir;

    /** Records what it marked and how often its hold was released; fails its marks when told to. */
    private static final class RecordingMarker implements AppendMarker {
        final List<ChunkId> marked = new ArrayList<>();
        final AtomicInteger holds = new AtomicInteger();
        final AtomicInteger released = new AtomicInteger();
        IOException failWith;

        @Override
        public Hold mark(List<ChunkId> ids) throws IOException {
            if (failWith != null) {
                throw failWith;
            }
            marked.addAll(ids);
            holds.incrementAndGet();
            return released::incrementAndGet;
        }
    }

    @Test
    void theHoldLastsUntilTheAppendIsDurable() throws Exception {
        List<ChunkData> chunks = pages(1, 3);
        RecordingMarker marker = new RecordingMarker();
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.pauseCommits();
            CompletableFuture<Void> put = store.append(chunks, marker);
            assertEquals(chunks.stream().map(ChunkData::id).toList(), marker.marked);
            assertEquals(0, marker.released.get(), "released before the append was durable");
            assertFalse(put.isDone());
            assertFalse(store.contains(chunks.get(0).id()));

            store.resumeCommits();
            put.get(30, TimeUnit.SECONDS);
            assertEquals(1, marker.released.get());
            assertTrue(store.contains(chunks.get(2).id()));
        }
    }

    @Test
    void everyMemberOfEveryPackIsMarkedBeforeThePacksAreAppended() throws Exception {
        List<ChunkData> members = ChunkStorePackTest.similarPages(7, 5);
        ChunkPack pack = ChunkStorePackTest.pack(members);
        RecordingMarker marker = new RecordingMarker();
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            store.appendPacks(List.of(pack), marker).get(30, TimeUnit.SECONDS);
            assertEquals(members.stream().map(ChunkData::id).toList(), marker.marked);
            assertEquals(1, marker.released.get());
            for (ChunkData member : members) {
                assertTrue(store.contains(member.id()));
            }
        }
    }

    @Test
    void marksThatFailAppendNothing() throws Exception {
        List<ChunkData> chunks = pages(2, 2);
        RecordingMarker marker = new RecordingMarker();
        marker.failWith = new IOException("cannot write GC marks: test");
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            CompletionException failed = assertThrows(CompletionException.class,
                    () -> store.append(chunks, marker).join());
            assertSame(marker.failWith, failed.getCause());
            assertEquals(0, store.recordsWritten());
            assertFalse(store.contains(chunks.get(0).id()));
        }
    }

    @Test
    void aRefusedAppendReleasesItsHold() throws Exception {
        ChunkData good = pages(3, 1).get(0);
        ChunkData lying = new ChunkData(pages(4, 1).get(0).id(), good.codec(), good.rawLength(),
                ByteBuffer.wrap(TestChunks.bytesOf(good)));
        RecordingMarker marker = new RecordingMarker();
        try (ChunkStore store = ChunkStore.open(dir, ChunkStoreOptions.defaults())) {
            CompletionException failed = assertThrows(CompletionException.class,
                    () -> store.append(List.of(good, lying), marker).join());
            assertTrue(failed.getCause() instanceof ChunkCorruptException, failed.toString());
            assertEquals(1, marker.holds.get());
            assertEquals(1, marker.released.get());
            assertEquals(0, store.recordsWritten());
        }
    }
}
