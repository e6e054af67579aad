package dev.cairn.client;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.image.ImageBuilder;
import dev.cairn.engine.image.SourceException;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.engine.manifest.Manifest;
import dev.cairn.engine.manifest.ManifestCodec;
import dev.cairn.engine.manifest.ManifestTree;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.MessageType;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One put: reads the source through a {@link ChunkPipeline} that cuts and hashes here (dedup
 * before the network) on every core with bounded memory, hands new chunks to a
 * {@link ChunkWriter} (which compresses those the cluster lacks), stores the manifest as chunks
 * the same way and finally commits the image
 * root through the Raft catalog. The commit is sent only after every chunk the manifest
 * references is durable on N_W nodes.
 */
final class ImageUploader {

    private final Cluster cluster;
    private final ProgressListener progress;
    private final java.time.Duration sessionLease;
    private final SessionRenewals renewals;
    private final java.util.function.Consumer<java.util.UUID> beforeCommit;
    private long done;
    private long total = -1;
    /** The image this put's image was dumped on (its lineage), or null. */
    private ImageName parent;

    ImageUploader(Cluster cluster, ProgressListener progress, java.time.Duration sessionLease,
                  SessionRenewals renewals, java.util.function.Consumer<java.util.UUID> beforeCommit) {
        this.cluster = cluster;
        this.progress = progress;
        this.sessionLease = sessionLease;
        this.renewals = renewals;
        this.beforeCommit = beforeCommit;
    }

    /** A directory (its contents become the image) or a single regular file. */
    PutResult putPath(ImageName name, Path source) {
        return putPath(name, source, null);
    }

    /**
     * As {@link #putPath(ImageName, Path)}, recording the image's parent: {@code explicitParent}
     * when given, else the one the directory's top-level {@code parent} link names (docs/criu.md,
     * Lineage). The link itself is stored as it is, like any symlink.
     */
    PutResult putPath(ImageName name, Path source, String explicitParent) {
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new CairnException.LocalIo("cannot put " + source + ": no such file or directory", null);
        }
        List<ImageBuilder.DirectoryEntry> entries;
        try {
            entries = ImageBuilder.walk(source);
        } catch (SourceException e) {
            throw new CairnException.LocalIo(e.getMessage(), e);
        }
        parent = Lineage.parentOf(name, source, explicitParent);
        total = ImageBuilder.sizeOf(entries);
        return put(name, builder -> builder.fromDirectory(entries));
    }

    /** A single stream, stored as a one-entry stream image. */
    PutResult putStream(ImageName name, InputStream in) {
        return put(name, builder -> builder.fromStream(in));
    }

    /** A tar archive, stored as a directory image of its entries; one cut off is refused unless {@code allowTruncated}. */
    PutResult putTar(ImageName name, InputStream in, boolean allowTruncated) {
        dev.cairn.engine.image.TarOptions options = allowTruncated
                ? dev.cairn.engine.image.TarOptions.ALLOW_TRUNCATED : dev.cairn.engine.image.TarOptions.STRICT;
        return put(name, builder -> builder.fromTar(in, options));
    }

    /** Entries yielded one by one (a CRIU dump through the page server), stored as a directory image. */
    PutResult putEntries(ImageName name, ImageBuilder.EntrySource entries) {
        return put(name, builder -> builder.fromEntries(entries));
    }

    private interface Source {
        Manifest read(ImageBuilder builder) throws SourceException;
    }

    /**
     * The session is open before the first HAS or PUT: a GC epoch that begins after it waits for
     * it (or for its lease to end), and one that began before it marks everything it relies on
     * (docs/gc.md). The open is sent as the put starts and the writer holds its batches until it
     * has committed, so the open's Raft round trip overlaps the cutting and hashing of the first
     * chunks. Once open, the session is renewed while the put runs, so the put may outlast the
     * lease; the renewals stop before the put returns. The commit closes the session in the same
     * catalog entry; a put that does not commit closes it itself, also when the open failed: a
     * call that failed with a leader change may still have committed, and a session left open
     * holds every GC epoch back for its whole lease. That close waits for the open to end (else an
     * open that commits after it would leave the session open). A close that fails after its
     * retries only leaves the lease to run out.
     */
    private PutResult put(ImageName name, Source source) {
        java.util.UUID session = java.util.UUID.randomUUID();
        ByteBuffer open = new GcMessages.OpenSession(session, cluster.clientId(), sessionLease.toMillis()).encode();
        SessionRenewer renewer = new SessionRenewer(cluster, session, sessionLease, renewals);
        boolean committed = false; // a commit that succeeds closes the session too (COMMIT_CLOSING_SESSION)
        try (ChunkWriter writer = new ChunkWriter(cluster, cluster.config().zstdLevel(),
                Runtime.getRuntime().availableProcessors())) {
            CompletableFuture<Void> opened = writer.sendAfter(() -> {
                refuseEarly(name);
                requireParent(name);
                cluster.metadataCall(MessageType.OPEN_SESSION, open);
                renewer.start();
            });
            try {
                PutResult result = put(name, source, session, writer, renewer);
                committed = true;
                return result;
            } finally {
                awaitEnd(opened); // also before the writer's threads, which run it, are stopped
                renewer.close();
            }
        } finally {
            if (!committed) {
                closeSession(session);
            }
        }
    }

    /**
     * Asks the catalog for {@code name} before any chunk is sent. The commit refuses a name that
     * exists, and one outside the token's prefixes (whose read the node refuses as not allowed),
     * but only after the whole image was uploaded: gigabytes sent for nothing, and bytes stored
     * under a name the tenant may not use. The commit still decides; this only fails early.
     */
    private void refuseEarly(ImageName name) {
        List<ImageInfo> found = ImageMessages.decodeImages(
                cluster.metadataCall(MessageType.GET_IMAGE, ImageMessages.encodeName(name)).header());
        if (!found.isEmpty()) {
            throw new CairnException.ImageExists("image " + name + " already exists (committed at index "
                    + found.get(0).commitIndex() + "); images are immutable, choose a new name");
        }
    }

    /**
     * Fails the put before any chunk is sent when its parent is not stored; the commit checks
     * again, in the catalog, so a parent removed in between still refuses it.
     */
    private void requireParent(ImageName name) {
        if (parent != null && ImageMessages.decodeImages(
                cluster.metadataCall(MessageType.GET_IMAGE, ImageMessages.encodeName(parent)).header()).isEmpty()) {
            throw new CairnException.ImageNotFound("the parent of image " + name + ", image " + parent
                    + ", is not stored; put " + parent + " first, or name the image it was dumped on with --parent;"
                    + " nothing was stored");
        }
    }

    /** Waits for {@code call} to end; how it ended is the writer's to report. */
    private static void awaitEnd(CompletableFuture<Void> call) {
        try {
            call.get();
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            // the writer has recorded it and fails the put with it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A close waits at most this long per node: after a failed put, the caller waits for the close. */
    private static final java.time.Duration CLOSE_TIMEOUT = java.time.Duration.ofSeconds(2);

    /**
     * Closes {@code session}, trying three times over about a second, each node given at most
     * {@link #CLOSE_TIMEOUT} (so a cluster that hangs delays a failed put by seconds, not by three
     * more request timeouts); "not open" counts as closed.
     */
    private void closeSession(java.util.UUID session) {
        java.time.Duration timeout = CLOSE_TIMEOUT.compareTo(cluster.config().requestTimeout()) < 0
                ? CLOSE_TIMEOUT : cluster.config().requestTimeout();
        for (int attempt = 1; ; attempt++) {
            try {
                cluster.metadataCall(MessageType.CLOSE_SESSION, GcMessages.encodeSession(session), null, timeout);
                return;
            } catch (CairnException.ImageNotFound e) {
                return; // never opened, or closed already
            } catch (CairnException e) {
                if (attempt == 3) {
                    return; // the lease ends it
                }
                try {
                    Thread.sleep(250L * attempt); // a leader election takes about this long
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private PutResult put(ImageName name, Source source, java.util.UUID session, ChunkWriter writer,
                          SessionRenewer renewer) {
        int cpus = Runtime.getRuntime().availableProcessors();
        int level = cluster.config().zstdLevel();
        Manifest manifest;
        // The pipeline only cuts and hashes; the writer compresses what the cluster lacks.
        try (ChunkPipeline pipeline = new ChunkPipeline(ChunkingPolicy.DEFAULT, level, false, cpus, 2 * cpus + 2,
                chunk -> {
                    // A refused renewal: GC may sweep what this put uploads, so it stops here.
                    renewer.check();
                    if (chunk.data() != null) {
                        writer.add(chunk.data());
                    }
                    advance(chunk.rawLength());
                })) {
            manifest = source.read(new ImageBuilder(pipeline));
        } catch (SourceException e) {
            throw new CairnException.LocalIo(e.getMessage(), e);
        }
        return commit(name, manifest, writer, session, renewer);
    }

    private PutResult commit(ImageName name, Manifest manifest, ChunkWriter writer, java.util.UUID session,
                             SessionRenewer renewer) {
        renewer.check();
        ManifestTree.Built tree;
        try (ChunkEncoder encoder = new ChunkEncoder(cluster.config().zstdLevel())) {
            tree = ManifestTree.build(ManifestCodec.encode(manifest), raw -> encoder.encode(raw, 0, raw.length));
        }
        tree.chunks().forEach(writer::add);
        // Every chunk, data and manifest, is durable on N_W nodes before the commit is sent.
        writer.finish();
        ImageRoot root = new ImageRoot(tree.rootId(), manifest.logicalBytes(), writer.uniqueStoredBytes(),
                manifest.entries().size(), manifest.chunkCount(), cluster.clock().millis());
        beforeCommit.accept(session);
        renewer.check();
        // Refused (SessionExpired) if the session's lease ran out: GC may have swept what it uploaded.
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.COMMIT_IMAGE,
                new ImageMessages.CommitImage(name, root, cluster.nextCall(), session, writer.newStoredBytes(), true, parent)
                        .encode());
        long commitIndex = Messages.decodeLong(reply.header());
        return new PutResult(name.value(), manifest.logicalBytes(), writer.sentBytes(), manifest.chunkCount(),
                writer.newChunks(), writer.uniqueStoredBytes(), commitIndex);
    }

    private void advance(long bytes) {
        done += bytes;
        progress.onProgress(done, total);
    }
}
