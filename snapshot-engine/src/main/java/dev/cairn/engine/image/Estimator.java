package dev.cairn.engine.image;

import dev.cairn.engine.ChunkCodec;
import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import dev.cairn.engine.EncoderPool;
import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.manifest.Manifest;
import dev.cairn.engine.manifest.ManifestCodec;
import dev.cairn.engine.manifest.ManifestTree;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * What a store would hold for a sequence of images, computed offline: the images are read in
 * order through the same {@link ImageBuilder}, chunking, dedup and compression as a put, and
 * their manifest trees are counted too. Dedup spans all images given to one estimator, as it
 * spans all images in a store.
 *
 * <p>Small distinct chunks are compressed together in packs ({@link ChunkPack}) as the client's
 * writer forms them: consecutive distinct chunks of an image that may join a pack (RAW, 1 to
 * {@link ChunkPack#MAX_MEMBER_BYTES} bytes) fill one until the next would take it past
 * {@link ChunkPack#MAX_RAW_BYTES} or {@link ChunkPack#MAX_MEMBERS}; a pack of one, or one that
 * does not pay, counts its chunks encoded one by one. The writer also keeps apart chunks whose
 * placement nodes differ; that is ignored here, which is exact when N equals the number of nodes
 * (every chunk then has every node). With more nodes than N the writer's packs hold chunks
 * farther apart in the image, and the store may keep somewhat more than estimated. Nor does the
 * estimate close a pack where the writer's batches end (every 1024 chunks or 4 MiB): one pack
 * cut short per batch.
 */
public final class Estimator implements AutoCloseable {

    /**
     * @param logicalBytes bytes of the images' files
     * @param uniqueBytes raw bytes of the distinct chunks (data and manifest)
     * @param storedBytes encoded bytes of the distinct chunks, small ones in packs: what the store
     *     keeps per replica, before record headers
     * @param chunks chunk references in the images
     * @param uniqueChunks distinct chunks
     */
    public record Result(long logicalBytes, long uniqueBytes, long storedBytes, long chunks, long uniqueChunks) {
        /** logical / stored; 0 for an empty estimate. */
        public double ratio() {
            return storedBytes == 0 ? 0 : (double) logicalBytes / storedBytes;
        }
    }

    /** Raw bytes of distinct chunks handed to an encoding thread at once. */
    private static final int WORK_BYTES = 1024 * 1024;

    private final ChunkPipeline pipeline;
    private final ChunkEncoder manifestEncoder;
    private final EncoderPool encoders;
    private final int windowWork;
    /** Ids counted so far, in input order (the pipeline's own record is made by racing workers). */
    private final Set<ChunkId> counted = new HashSet<>();
    /** Distinct chunks whose bytes the pipeline handed out with a later occurrence, still to come. */
    private final Map<ChunkId, Slot> awaiting = new HashMap<>();
    /** Work formed and not yet submitted, in order: the first waits until all its bytes are in. */
    private final ArrayDeque<Work> forming = new ArrayDeque<>();
    /** Encoding work submitted and not yet counted, oldest first: each gives its stored bytes. */
    private final ArrayDeque<Future<Long>> window = new ArrayDeque<>();
    private Work work = new Work();
    private List<Slot> pack = new ArrayList<>();
    private int packBytes;
    private long logicalBytes;
    private long uniqueBytes;
    private long storedBytes;
    private long chunks;
    private long uniqueChunks;

    /** A distinct chunk at the place of its first occurrence; its bytes may come with a later one. */
    private static final class Slot {
        ChunkData data;
        /** The work its group joined, once it joined one. */
        Work work;

        Slot(ChunkData data) {
            this.data = data;
        }
    }

    /** Chunks to encode on one thread: each group a pack, or one chunk (a pack of one is encoded alone). */
    private static final class Work {
        final List<List<Slot>> groups = new ArrayList<>();
        int rawBytes;
        int missing;
    }

    public Estimator(ChunkingPolicy policy, int zstdLevel, int threads) {
        this.windowWork = 2 * threads + 2;
        // The pipeline cuts, hashes and copies first sightings, as a put's does; encoding is done here, in packs.
        this.pipeline = new ChunkPipeline(policy, zstdLevel, false, threads, 2 * threads + 2, this::count);
        this.manifestEncoder = new ChunkEncoder(zstdLevel);
        this.encoders = new EncoderPool("cairn-estimate", threads, zstdLevel);
    }

    public Estimator() {
        this(ChunkingPolicy.DEFAULT, ChunkEncoder.DEFAULT_LEVEL, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Counts chunks in input order. The pipeline's workers race to be the first sighting of an id,
     * so the copy of a chunk may come with a later occurrence than its first: the chunk takes its
     * place in a pack at its first occurrence all the same, so that packs (and the estimate) do not
     * depend on thread timing. (A put's writer packs a chunk where its copy comes, which timing may
     * move by a batch: a difference of some bytes in a megabyte.)
     */
    private void count(ChunkPipeline.Chunk chunk) {
        if (chunk.data() != null) {
            Slot slot = awaiting.remove(chunk.id());
            if (slot != null) {
                slot.data = chunk.data();
                if (slot.work != null) {
                    slot.work.missing--;
                    submitReady();
                }
                return;
            }
        }
        if (counted.add(chunk.id())) {
            countUnique(chunk.id(), chunk.rawLength(), chunk.data());
        }
    }

    /**
     * Counts a distinct chunk: its raw bytes now, its stored bytes once encoded (or at once for a
     * manifest chunk, encoded already). {@code data} is null while its bytes are still to come.
     */
    private void countUnique(ChunkId id, int rawLength, ChunkData data) {
        uniqueChunks++;
        uniqueBytes += rawLength;
        if (data != null && data.codec() != ChunkCodec.RAW) {
            storedBytes += data.storedLength();
            return;
        }
        // RAW: every data chunk (the pipeline does not compress), and a manifest chunk that did not pay.
        if (ChunkPack.mayJoin(rawLength)) {
            if (ChunkPack.isFull(pack.size(), packBytes, rawLength)) {
                closePack();
            }
            pack.add(slot(id, data));
            packBytes += rawLength;
        } else {
            addGroup(List.of(slot(id, data)), rawLength);
        }
    }

    private Slot slot(ChunkId id, ChunkData data) {
        Slot slot = new Slot(data);
        if (data == null) {
            awaiting.put(id, slot);
        }
        return slot;
    }

    private void closePack() {
        if (!pack.isEmpty()) {
            addGroup(pack, packBytes);
            pack = new ArrayList<>();
            packBytes = 0;
        }
    }

    private void addGroup(List<Slot> group, int rawBytes) {
        work.groups.add(group);
        for (Slot s : group) {
            if (s.data == null) {
                s.work = work;
                work.missing++;
            }
        }
        work.rawBytes += rawBytes;
        if (work.rawBytes >= WORK_BYTES) {
            closeWork();
        }
    }

    private void closeWork() {
        if (!work.groups.isEmpty()) {
            forming.add(work);
            work = new Work();
        }
        submitReady();
    }

    /** Submits formed work, in order, as long as its chunks' bytes are all in. */
    private void submitReady() {
        while (!forming.isEmpty() && forming.peek().missing == 0) {
            Work ready = forming.poll();
            while (window.size() >= windowWork) {
                storedBytes += stored(window.poll());
            }
            window.add(encoders.submit(() -> encoders.withEncoder(encoder -> encodedBytes(encoder, ready.groups))));
        }
    }

    /** Stored bytes of {@code groups}: each a pack if it pays, else its chunks one by one. */
    private static long encodedBytes(ChunkEncoder encoder, List<List<Slot>> groups) {
        long stored = 0;
        for (List<Slot> group : groups) {
            List<ChunkData> members = new ArrayList<>(group.size());
            group.forEach(s -> members.add(s.data));
            ChunkPack p = members.size() > 1 ? encoder.encodePack(members) : null;
            if (p != null) {
                stored += p.storedLength();
                continue;
            }
            for (ChunkData c : members) {
                byte[] raw = new byte[c.rawLength()];
                c.bytes().duplicate().get(raw);
                stored += encoder.encode(c.id(), raw, 0, raw.length).storedLength();
            }
        }
        return stored;
    }

    private static long stored(Future<Long> work) {
        try {
            return work.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while estimating", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("estimating failed: " + e.getCause(), e.getCause());
        }
    }

    /** Adds one image: a directory or a single file. */
    public void add(Path image) throws SourceException {
        Manifest manifest = new ImageBuilder(pipeline).fromDirectory(ImageBuilder.walk(image));
        addManifest(manifest);
    }

    /** Adds one image read from a tar archive. */
    public void addTar(java.io.InputStream tar) throws SourceException {
        addTar(tar, TarOptions.STRICT);
    }

    /** Adds one image read from a tar archive as {@code options} say (as put reads it). */
    public void addTar(java.io.InputStream tar, TarOptions options) throws SourceException {
        addManifest(new ImageBuilder(pipeline).fromTar(tar, options));
    }

    private void addManifest(Manifest manifest) {
        logicalBytes += manifest.logicalBytes();
        chunks += manifest.chunkCount();
        ManifestTree.Built tree = ManifestTree.build(ManifestCodec.encode(manifest),
                raw -> manifestEncoder.encode(raw, 0, raw.length));
        for (ChunkData c : tree.chunks()) {
            pipeline.firstSighting(c.id()); // so that a data chunk of the same bytes later dedups against it
            if (counted.add(c.id())) {
                countUnique(c.id(), c.rawLength(), c);
            }
        }
        // A put's last pack ends with the put: packs never span images.
        closePack();
        closeWork();
        if (!awaiting.isEmpty() || !forming.isEmpty()) {
            throw new IllegalStateException(awaiting.size() + " distinct chunks' bytes never came from the pipeline");
        }
    }

    public Result result() {
        while (!window.isEmpty()) {
            storedBytes += stored(window.poll());
        }
        return new Result(logicalBytes, uniqueBytes, storedBytes, chunks, uniqueChunks);
    }

    @Override
    public void close() {
        pipeline.close();
        encoders.close();
        manifestEncoder.close();
    }
}
