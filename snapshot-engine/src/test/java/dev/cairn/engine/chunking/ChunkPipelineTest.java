package dev.cairn.engine.chunking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.manifest.ChunkRef;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChunkPipelineTest {

    /** Delivers bytes a few at a time, as a pipe or socket would. */
    static InputStream trickle(byte[] data, long seed) {
        Random random = new Random(seed);
        return new ByteArrayInputStream(data) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + random.nextInt(70_000)));
            }
        };
    }

    /** Both ways, with batch buffers reused across the window: every chunk keeps its own bytes. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void chunksArriveInInputOrderAndMatchASequentialCut(boolean compress) throws Exception {
        byte[] data = new byte[5 * 1024 * 1024 + 77];
        new Random(3).nextBytes(data);
        System.arraycopy(data, 0, data, 3 * 1024 * 1024, 1024 * 1024); // a repeat, so some chunks dedup
        List<ChunkPipeline.Chunk> got = new ArrayList<>();
        List<ChunkRef> refs = new ArrayList<>();
        try (ChunkPipeline p = new ChunkPipeline(ChunkingPolicy.DEFAULT, ChunkEncoder.DEFAULT_LEVEL, compress, 2, 3, got::add)) {
            p.add("stream", trickle(data, 4), refs);
            p.drain();
            if (compress) {
                assertTrue(p.encodersOpened() > 0);
            } else {
                assertEquals(0, p.encodersOpened(), "a hashing-only pipeline opens no zstd context");
            }
        }
        // The same cuts as FastCdc over the whole array at once.
        List<Integer> expected = FastCdcTest.lengths(ChunkingPolicy.DEFAULT.cdc(), data);
        assertEquals(expected.size(), got.size());
        int offset = 0;
        java.util.Set<ChunkId> seen = new java.util.HashSet<>();
        for (int i = 0; i < got.size(); i++) {
            ChunkPipeline.Chunk c = got.get(i);
            assertEquals(expected.get(i), c.rawLength());
            assertEquals(ChunkId.of(data, offset, c.rawLength()), c.id());
            assertEquals(new ChunkRef(c.id(), c.rawLength()), refs.get(i));
            if (seen.add(c.id())) {
                assertNotNull(c.data(), "the first sighting carries the bytes");
                assertTrue(c.data().verify());
                if (!compress) {
                    assertEquals(ChunkCodec.RAW, c.data().codec(), "a hashing-only pipeline hands out raw copies");
                }
                ByteBuffer raw = c.data().rawBytes();
                assertEquals(ByteBuffer.wrap(data, offset, c.rawLength()), raw);
            } else {
                assertNull(c.data(), "a repeat carries only its id");
            }
            offset += c.rawLength();
        }
        assertEquals(data.length, offset);
    }

    @Test
    void pageFilesAreCutEveryPageAndSeveralInputsKeepTheirOwnRefs() throws Exception {
        byte[] pages = new byte[10 * 4096 + 100];
        new Random(5).nextBytes(pages);
        byte[] other = new byte[300_000];
        List<ChunkRef> a = new ArrayList<>();
        List<ChunkRef> b = new ArrayList<>();
        List<ChunkRef> empty = new ArrayList<>();
        int[] delivered = {0};
        try (ChunkPipeline p = new ChunkPipeline(ChunkingPolicy.DEFAULT, 1, 2, 1, c -> delivered[0]++)) {
            p.add("dump/pages-1.img", new ByteArrayInputStream(pages), a);
            p.add("empty", new ByteArrayInputStream(new byte[0]), empty);
            p.add("core-1.img", new ByteArrayInputStream(other), b);
            p.drain();
        }
        assertEquals(11, a.size());
        assertEquals(100, a.get(10).rawLength());
        assertEquals(0, empty.size());
        assertEquals(300_000, b.stream().mapToInt(ChunkRef::rawLength).sum());
        assertEquals(a.size() + b.size(), delivered[0]);
    }

    /** The chunks of one pipeline run over {@code data}, checked against a sequential cut of it. */
    private static void cutAndCheck(BatchBuffers buffers, byte[] data, String name) throws Exception {
        List<ChunkPipeline.Chunk> got = new ArrayList<>();
        List<ChunkRef> refs = new ArrayList<>();
        try (ChunkPipeline p = new ChunkPipeline(ChunkingPolicy.DEFAULT, ChunkEncoder.DEFAULT_LEVEL, false, 2, 3,
                got::add, buffers)) {
            p.add(name, trickle(data, data.length), refs);
            p.drain();
        }
        int offset = 0;
        for (ChunkPipeline.Chunk c : got) {
            assertEquals(ChunkId.of(data, offset, c.rawLength()), c.id(), name + " at " + offset);
            offset += c.rawLength();
        }
        assertEquals(data.length, offset);
    }

    /** A process that runs put after put (a node behind its HTTP API) stops allocating batch buffers. */
    @Test
    void laterPipelinesTakeTheBuffersOfEarlierOnes() throws Exception {
        BatchBuffers buffers = new BatchBuffers(BatchBuffers.DEFAULT_MAX_SPARE_BYTES);
        byte[] data = new byte[6 * 1024 * 1024];
        new Random(6).nextBytes(data);
        cutAndCheck(buffers, data, "stream");
        cutAndCheck(buffers, data, "dump/pages-1.img");
        int afterFirst = buffers.allocated();
        assertTrue(afterFirst >= 2, "a 6 MiB input needs several buffers, allocated " + afterFirst);
        for (int i = 0; i < 3; i++) {
            cutAndCheck(buffers, data, "stream");
            cutAndCheck(buffers, data, "dump/pages-1.img");
        }
        // Each run gives back every buffer before it ends, and a run of the same shape never holds
        // more at once than the window allows, so later runs find spares for all of them.
        assertTrue(buffers.allocated() <= afterFirst + 2,
                "later runs allocated " + (buffers.allocated() - afterFirst) + " buffers");
        assertTrue(buffers.spareBytes() <= BatchBuffers.DEFAULT_MAX_SPARE_BYTES);
    }

    /** Buffers pass between pipelines running at once, and no chunk sees another pipeline's bytes. */
    @Test
    void pipelinesSharingBuffersAtOnceKeepTheirOwnBytes() throws Exception {
        BatchBuffers buffers = new BatchBuffers(BatchBuffers.DEFAULT_MAX_SPARE_BYTES);
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                byte[] data = new byte[5 * 1024 * 1024 + 4321 * t];
                new Random(10 + t).nextBytes(data);
                String name = t == 1 ? "dump/pages-2.img" : "stream";
                runs.add(threads.submit(() -> {
                    for (int i = 0; i < 4; i++) {
                        cutAndCheck(buffers, data, name);
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> run : runs) {
                run.get();
            }
        } finally {
            threads.shutdownNow();
        }
        assertTrue(buffers.allocated() < 3 * 4 * 3, "buffers were handed on, allocated " + buffers.allocated());
    }

    @Test
    void sparesStayWithinTheirBoundAndTooSmallOnesAreDropped() {
        BatchBuffers buffers = new BatchBuffers(3000);
        for (int i = 0; i < 5; i++) {
            buffers.give(new byte[1000]);
        }
        assertEquals(3000, buffers.spareBytes(), "two of five buffers are over the bound and dropped");
        for (int i = 0; i < 3; i++) {
            assertEquals(1000, buffers.take(1000).length);
        }
        assertEquals(0, buffers.allocated());
        assertEquals(1000, buffers.take(1000).length);
        assertEquals(1, buffers.allocated(), "no spare left: a new array");
        buffers.give(new byte[10]);
        assertEquals(1000, buffers.take(1000).length);
        assertEquals(2, buffers.allocated(), "a spare too small is not handed out");
        assertEquals(0, buffers.spareBytes(), "and is dropped");
    }
}
