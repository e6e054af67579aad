package dev.cairn.engine.image;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.manifest.Manifest;
import dev.cairn.engine.manifest.ManifestCodec;
import dev.cairn.engine.manifest.ManifestTree;
import java.nio.file.Path;

/**
 * What a store would hold for a sequence of images, computed offline: the images are read in
 * order through the same {@link ImageBuilder}, chunking, dedup and compression as a put, and
 * their manifest trees are counted too. Dedup spans all images given to one estimator, as it
 * spans all images in a store.
 */
public final class Estimator implements AutoCloseable {

    /**
     * @param logicalBytes bytes of the images' files
     * @param uniqueBytes raw bytes of the distinct chunks (data and manifest)
     * @param storedBytes encoded bytes of the distinct chunks: what the store keeps per replica, before record headers
     * @param chunks chunk references in the images
     * @param uniqueChunks distinct chunks
     */
    public record Result(long logicalBytes, long uniqueBytes, long storedBytes, long chunks, long uniqueChunks) {
        /** logical / stored; 0 for an empty estimate. */
        public double ratio() {
            return storedBytes == 0 ? 0 : (double) logicalBytes / storedBytes;
        }
    }

    private final ChunkPipeline pipeline;
    private final ChunkEncoder manifestEncoder;
    private long logicalBytes;
    private long uniqueBytes;
    private long storedBytes;
    private long chunks;
    private long uniqueChunks;

    public Estimator(ChunkingPolicy policy, int zstdLevel, int threads) {
        this.pipeline = new ChunkPipeline(policy, zstdLevel, threads, 2 * threads + 2, this::count);
        this.manifestEncoder = new ChunkEncoder(zstdLevel);
    }

    public Estimator() {
        this(ChunkingPolicy.DEFAULT, ChunkEncoder.DEFAULT_LEVEL, Runtime.getRuntime().availableProcessors());
    }

    private void count(ChunkPipeline.Chunk chunk) {
        if (chunk.data() != null) {
            countUnique(chunk.data());
        }
    }

    private void countUnique(ChunkData data) {
        uniqueChunks++;
        uniqueBytes += data.rawLength();
        storedBytes += data.storedLength();
    }

    /** Adds one image: a directory or a single file. */
    public void add(Path image) throws SourceException {
        Manifest manifest = new ImageBuilder(pipeline).fromDirectory(ImageBuilder.walk(image));
        addManifest(manifest);
    }

    /** Adds one image read from a tar archive. */
    public void addTar(java.io.InputStream tar) throws SourceException {
        addManifest(new ImageBuilder(pipeline).fromTar(tar));
    }

    private void addManifest(Manifest manifest) {
        logicalBytes += manifest.logicalBytes();
        chunks += manifest.chunkCount();
        ManifestTree.Built tree = ManifestTree.build(ManifestCodec.encode(manifest),
                raw -> manifestEncoder.encode(raw, 0, raw.length));
        for (ChunkData c : tree.chunks()) {
            if (pipeline.firstSighting(c.id())) {
                countUnique(c);
            }
        }
    }

    public Result result() {
        return new Result(logicalBytes, uniqueBytes, storedBytes, chunks, uniqueChunks);
    }

    @Override
    public void close() {
        pipeline.close();
        manifestEncoder.close();
    }
}
