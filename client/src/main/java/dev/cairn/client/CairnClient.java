package dev.cairn.client;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.Clock;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.protocol.LocalChunks;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A connection to a Cairn cluster: put, get, list, stat and delete checkpoint images.
 *
 * <p>Thread-safe; one instance holds one connection per node. Every put is durable when it
 * returns: each chunk is fsync'd on N_W nodes and the image's root is committed in the Raft log
 * on a majority. Every get verifies each chunk against its SHA-256. Administration (health,
 * membership, repair, GC) is {@link CairnAdmin}'s.
 *
 * <pre>{@code
 * try (CairnClient cairn = CairnClient.connect(ClientConfig.parse("127.0.0.1:7400"))) {
 *     cairn.put("job-7/ckpt-1", Path.of("/var/lib/criu/dump-1"));
 *     cairn.get("job-7/ckpt-1", Path.of("/tmp/restore"));
 * }
 * }</pre>
 */
public final class CairnClient implements AutoCloseable {

    /** Most images one list call returns. */
    public static final int MAX_LIST = 1000;

    /**
     * The lease of a put's upload session. The put renews it every third of the lease while it
     * runs, so a put may take longer; a session whose client stopped renewing (a client that died
     * mid-put) holds garbage collection back for at most this long. Short, because a GC epoch
     * waits for every session older than itself (docs/gc.md).
     */
    public static final Duration DEFAULT_SESSION_LEASE = Duration.ofSeconds(60);

    /**
     * How old the client's view of the membership may get before an operation asks for it again:
     * after a node is added or removed, a long-lived client places chunks by the new membership
     * within this time. One small request per interval at most.
     */
    static final Duration MEMBERSHIP_MAX_AGE = Duration.ofSeconds(30);

    private final Cluster cluster;
    private final Duration sessionLease;
    private final AtomicLong sessionIndex = new AtomicLong();
    // Test seams (package-private): see beforeCommit and sessionRenewals below.
    private volatile Consumer<UUID> beforeCommit = session -> {};
    private volatile SessionRenewals sessionRenewals = SessionRenewals.NONE;

    private CairnClient(Cluster cluster, Duration sessionLease) {
        this.cluster = cluster;
        this.sessionLease = sessionLease;
    }

    /** Connects with the default settings; {@link #builder} sets others. */
    public static CairnClient connect(ClientConfig config) {
        return builder(config).build();
    }

    /** A builder of a client of the cluster {@code config} names. */
    public static Builder builder(ClientConfig config) {
        return new Builder(config);
    }

    /** Settings of a client beyond its {@link ClientConfig}; {@link #build} connects. */
    public static final class Builder {
        private final ClientConfig config;
        private Duration sessionLease = DEFAULT_SESSION_LEASE;
        private LocalChunks local;
        private Clock clock = Clock.SYSTEM;

        private Builder(ClientConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /**
         * The upload session lease of the client's puts (default {@link #DEFAULT_SESSION_LEASE});
         * each put renews its session every third of it while it runs.
         */
        public Builder sessionLease(Duration lease) {
            this.sessionLease = Objects.requireNonNull(lease, "lease");
            return this;
        }

        /**
         * Makes this the client of a node's own gateway: that node's copies are read, asked about
         * and stored through {@code local}, in process, and only the peers' over the network.
         */
        public Builder localChunks(LocalChunks local) {
            this.local = Objects.requireNonNull(local, "local");
            return this;
        }

        /** The clock of read hedging, membership refreshes and commit times (default {@link Clock#SYSTEM}). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Connects to the cluster through the first of the configured nodes that answers. */
        public CairnClient build() {
            return new CairnClient(Cluster.connect(config, local, clock), sessionLease);
        }
    }

    /** The connections this client holds, which a {@link CairnAdmin} made from it shares. */
    Cluster cluster() {
        return cluster;
    }

    /**
     * A test seam: runs after a put's chunks are durable and before its commit is sent, with the
     * put's session id, so a test can order a GC epoch against the put.
     */
    void beforeCommit(Consumer<UUID> hook) {
        this.beforeCommit = Objects.requireNonNull(hook, "hook");
    }

    /** A test seam: installs {@link SessionRenewals} hooks for later puts. */
    void sessionRenewals(SessionRenewals hook) {
        this.sessionRenewals = Objects.requireNonNull(hook, "hook");
    }

    /** Stores a directory (its contents) or a single file as image {@code name}. */
    public PutResult put(String name, Path source, ProgressListener progress) {
        return put(() -> uploader(progress).putPath(name(name), source));
    }

    public PutResult put(String name, Path source) {
        return put(name, source, ProgressListener.NONE);
    }

    /**
     * Stores a directory as {@link #put(String, Path, ProgressListener)} does, recording the image
     * it was dumped on (CRIU's incremental dumps): {@code parent} when not null, else the image
     * its top-level {@code parent} symlink names, read relative to {@code name}. A parent that is
     * not stored fails the put with {@link CairnException.ImageNotFound}; nothing is stored.
     */
    public PutResult put(String name, Path source, String parent, ProgressListener progress) {
        return put(() -> uploader(progress).putPath(name(name), source, parent));
    }

    /** Stores everything {@code in} yields as a single-stream image. The stream is not closed. */
    public PutResult put(String name, InputStream in, ProgressListener progress) {
        return put(() -> uploader(progress).putStream(name(name), in));
    }

    public PutResult put(String name, InputStream in) {
        return put(name, in, ProgressListener.NONE);
    }

    /**
     * Stores a tar archive (ustar, GNU or PAX; the shape of podman and kubelet checkpoint
     * archives) as a directory image of its entries. Hostile archives (absolute paths,
     * {@code ..}, entries below symlinks, oversized headers) are refused with
     * {@link CairnException.LocalIo} before anything is committed. The stream is not closed.
     */
    public PutResult putTar(String name, InputStream tar, ProgressListener progress) {
        return putTar(name, tar, PutOptions.DEFAULT, progress);
    }

    /**
     * Stores a tar archive as {@link #putTar(String, InputStream, ProgressListener)} does, read as
     * {@code options} say. An archive that ends without its end-of-archive blocks (it was cut
     * off) is refused unless {@link PutOptions#allowTruncatedTar()}.
     */
    public PutResult putTar(String name, InputStream tar, PutOptions options, ProgressListener progress) {
        return put(() -> uploader(progress).putTar(name(name), tar, options.allowTruncatedTar()));
    }

    /**
     * Stores the entries {@code entries} yields, one by one and each file as a stream of unknown
     * length, as a directory image (how a CRIU dump arrives through Cairn's page server). The
     * image commits once, after the source ends; a source that fails commits nothing.
     */
    public PutResult putEntries(String name, dev.cairn.engine.image.ImageBuilder.EntrySource entries,
                                ProgressListener progress) {
        return put(() -> uploader(progress).putEntries(name(name), entries));
    }

    public PutResult putTar(String name, InputStream tar) {
        return putTar(name, tar, ProgressListener.NONE);
    }

    /** Runs one put; a put that misses a quorum says which nodes it cannot reach. */
    private PutResult put(java.util.function.Supplier<PutResult> upload) {
        try {
            return seen(upload.get());
        } catch (CairnException.QuorumUnavailable e) {
            throw QuorumLoss.explain(cluster, e, "put");
        }
    }

    private ImageUploader uploader(ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageUploader(cluster, progress, sessionLease, sessionRenewals, beforeCommit);
    }

    /** Writes image {@code name} to {@code out} as a tar archive (a stream image becomes one file, {@code stream}). */
    public GetResult getTar(String name, OutputStream out, ProgressListener progress) {
        return getTar(name, out, RestoreOptions.DEFAULT, progress);
    }

    /** Writes image {@code name} as a tar archive; setuid and setgid bits only with {@link RestoreOptions#keepSetId()}. */
    public GetResult getTar(String name, OutputStream out, RestoreOptions options, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageRestorer(cluster, progress, options).toTar(stat(name), out);
    }

    public GetResult getTar(String name, OutputStream out) {
        return getTar(name, out, ProgressListener.NONE);
    }

    /**
     * Restores image {@code name} into {@code destination}, a new or empty directory; fsync'd on
     * return. Setuid and setgid bits are stripped ({@link RestoreOptions}).
     */
    public GetResult get(String name, Path destination, ProgressListener progress) {
        return get(name, destination, RestoreOptions.DEFAULT, progress);
    }

    /** Restores image {@code name} into {@code destination}, giving modes as {@code options} say. */
    public GetResult get(String name, Path destination, RestoreOptions options, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageRestorer(cluster, progress, options).toDirectory(stat(name), destination);
    }

    public GetResult get(String name, Path destination) {
        return get(name, destination, ProgressListener.NONE);
    }

    /**
     * Restores image {@code name} into {@code destination} and, for an image with lineage, each
     * ancestor where its child's stored {@code parent} link points (relative to the child's
     * directory), so {@code criu restore -D destination} finds the chain. Every place must be new
     * or an empty directory; that is checked for all of them before anything is written. Returns
     * one result per image written, the image itself first.
     */
    public List<GetResult> getWithParents(String name, Path destination, RestoreOptions options,
                                          ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        ImageRestorer reader = new ImageRestorer(cluster, ProgressListener.NONE);
        List<GetResult> results = new java.util.ArrayList<>();
        for (ParentChain.Step step : ParentChain.plan(stat(name), destination, reader::manifest, this::stat)) {
            results.add(new ImageRestorer(cluster, progress, options).toDirectory(step.image(), step.dir()));
        }
        return results;
    }

    /**
     * Restores image {@code name} into {@code destination} as one self-contained CRIU image: no
     * {@code parent} link, and every pagemap entry its ancestors held (flagged in-parent) replaced
     * by their pages, so no pagemap has an in-parent entry. An image without lineage is restored
     * as {@link #get(String, Path, RestoreOptions, ProgressListener)} does.
     */
    public GetResult getFlattened(String name, Path destination, RestoreOptions options, ProgressListener progress) {
        ImageInfo info = stat(name);
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        GetResult written = new ImageRestorer(cluster, progress, options).toDirectory(info, destination);
        dev.cairn.client.criu.PagemapFlattener.flatten(this, info, destination);
        return written;
    }

    /** Writes a stream image (or an image of one file) to {@code out}. The stream is not closed. */
    public GetResult get(String name, OutputStream out, ProgressListener progress) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageRestorer(cluster, progress).toStream(stat(name), out);
    }

    public GetResult get(String name, OutputStream out) {
        return get(name, out, ProgressListener.NONE);
    }

    /** The manifest of image {@code name}: its entries, each with its chunks in file order (for partial reads). */
    public dev.cairn.engine.manifest.Manifest manifest(String name) {
        cluster.refreshIfOlderThan(MEMBERSHIP_MAX_AGE);
        return new ImageRestorer(cluster, ProgressListener.NONE).manifest(stat(name));
    }

    /** The bytes of {@code ids}, in order, each verified against its id: a partial read of an image's file. */
    public List<ByteBuffer> readChunks(List<dev.cairn.engine.ChunkId> ids) {
        return new ImageRestorer(cluster, ProgressListener.NONE).chunks(ids);
    }

    /** Images whose names start with {@code prefix}, sorted by name. */
    public List<ImageInfo> list(String prefix) {
        String p = prefix == null ? "" : prefix;
        if (cluster.config().sessionReads()) {
            return sessionRead(MessageType.LIST_IMAGES, new ImageMessages.ListImages(p, MAX_LIST, sessionIndex.get()).encode());
        }
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.LIST_IMAGES, new ImageMessages.ListImages(p, MAX_LIST).encode());
        return ImageMessages.decodeImages(reply.header());
    }

    /** The catalog entry of image {@code name}; {@link CairnException.ImageNotFound} when there is none. */
    public ImageInfo stat(String name) {
        ImageName imageName = name(name);
        List<ImageInfo> found;
        if (cluster.config().sessionReads()) {
            found = sessionRead(MessageType.GET_IMAGE, new ImageMessages.GetImage(imageName, sessionIndex.get()).encode());
        } else {
            found = ImageMessages.decodeImages(cluster.metadataCall(MessageType.GET_IMAGE, ImageMessages.encodeName(imageName)).header());
        }
        if (found.isEmpty()) {
            throw notFound(name);
        }
        return found.get(0);
    }

    /**
     * A catalog read answered by the node this client talks to once it has applied everything
     * this client has seen; the index it answered at becomes the floor of the next read.
     */
    private List<ImageInfo> sessionRead(MessageType type, ByteBuffer request) {
        ImageMessages.SessionImages answer = ImageMessages.SessionImages.decode(cluster.metadataCall(type, request).header());
        sessionIndex.accumulateAndGet(answer.servedIndex(), Math::max);
        return answer.images();
    }

    private PutResult seen(PutResult put) {
        sessionIndex.accumulateAndGet(put.commitIndex(), Math::max);
        return put;
    }

    /**
     * The highest catalog index this client has seen (its commits and deletes, and with session
     * reads the index each read was answered at): what a session read waits for.
     */
    public long sessionIndex() {
        return sessionIndex.get();
    }

    /** Deletes image {@code name}; returns the commit index of the delete. Its chunks go at the next GC. */
    public long delete(String name) {
        NodeConnection.Reply reply = cluster.metadataCall(MessageType.DELETE_IMAGE,
                new ImageMessages.DeleteImage(name(name), cluster.nextCall()).encode());
        long index = Messages.decodeLong(reply.header());
        sessionIndex.accumulateAndGet(index, Math::max);
        return index;
    }

    static CairnException.ImageNotFound notFound(String name) {
        return new CairnException.ImageNotFound("image '" + name + "' not found; cairn ls lists the images");
    }

    private static ImageName name(String name) {
        try {
            return new ImageName(name);
        } catch (ImageName.InvalidNameException e) {
            throw new CairnException.InvalidName(e.getMessage());
        }
    }

    @Override
    public void close() {
        cluster.close();
    }
}
