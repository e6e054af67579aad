package dev.cairn.server;

import dev.cairn.client.CairnClient;
import dev.cairn.client.ChunkPeers;
import dev.cairn.server.gc.GcCoordinator;
import dev.cairn.server.gc.GcNode;
import dev.cairn.server.replication.ClientTraffic;
import dev.cairn.server.replication.Replicator;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.server.http.HttpApiServer;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.net.ProtocolServer;
import dev.cairn.server.net.RequestHandler;
import dev.cairn.server.store.ChunkStore;
import dev.cairn.server.store.ChunkStoreOptions;
import dev.cairn.protocol.transport.ServerTls;
import org.slf4j.LoggerFactory;
import java.io.IOException;
import java.nio.file.Files;

/**
 * One Cairn node: its chunk store, its member of the Raft catalog group, and its protocol and
 * HTTP ports. Starting it on the data directory of an earlier run rejoins with that data.
 */
public final class CairnServer implements AutoCloseable {

    /**
     * The first census runs soon after start, so health has figures; then one pass every 10
     * minutes. Each yields to clients' puts and gets (Replicator.QUIET_BEFORE_STEP).
     */
    static final long REPAIR_FIRST_SECONDS = 30;
    static final long REPAIR_PERIOD_SECONDS = 600;

    private final NodeConfig config;
    private final NodeMetrics metrics = new NodeMetrics();
    private ChunkStore store;
    private MetaService meta;
    private ProtocolServer protocol;
    private RequestHandler handler;
    private HttpApiServer http;
    private CairnClient gatewayClient;
    private ChunkPeers peers;
    private Replicator replicator;
    private GcNode gc;
    private GcCoordinator gcCoordinator;

    private CairnServer(NodeConfig config) {
        this.config = config;
    }

    public static CairnServer start(NodeConfig config) throws IOException {
        CairnServer server = new CairnServer(config);
        try {
            server.open();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void open() throws IOException {
        // Before anything opens: a certificate that cannot be read stops the start with its file's name.
        ServerTls tls = ServerTls.of(config.tls());
        if (tls.enabled()) {
            LoggerFactory.getLogger(CairnServer.class).info("TLS on the protocol and HTTP ports by {}", tls.implementation());
        } else {
            LoggerFactory.getLogger(CairnServer.class).warn(tlsOffWarning(config));
        }
        Files.createDirectories(config.dataDir());
        // The configured chunk limit bounds the store itself, not only the protocol's decoding, so
        // every writer (client puts, repair copies, the HTTP gateway in process) meets the same limit.
        store = ChunkStore.open(config.dataDir().resolve("chunks"),
                ChunkStoreOptions.defaults().withMaxChunkBytes(config.limits().maxChunkBytes()));
        ChunkStore openedStore = store;
        metrics.gauge("cairn_store_chunks", openedStore::chunkCount);
        metrics.gauge("cairn_store_stored_bytes", openedStore::storedBytes);
        // Group commit at work: records per fdatasync is their ratio.
        metrics.gauge("cairn_store_fsyncs", openedStore::syncCount);
        openedStore.onSync(metrics::storeSynced);
        metrics.gauge("cairn_store_records_written", openedStore::recordsWritten);
        metrics.gauge("cairn_store_failed", () -> openedStore.isFailed() ? 1 : 0);
        meta = MetaService.start(config);
        meta.registerMetrics(metrics.registry());
        NodeAddress self = config.self();
        ClientTraffic clientTraffic = new ClientTraffic();
        replicator = new Replicator(config, store, this::peers, metrics, clientTraffic);
        gc = GcNode.open(config.nodeId(), config.dataDir().resolve("gc"), store, metrics);
        gcCoordinator = new GcCoordinator(config, meta, this::peers, this::gatewayClient, metrics);
        handler = new RequestHandler(config, store, meta, replicator, gc, gcCoordinator, metrics, clientTraffic);
        protocol = new ProtocolServer(handler, config.limits(), metrics).tls(tls);
        protocol.start(self.host(), self.port());
        replicator.startBackground(REPAIR_FIRST_SECONDS, REPAIR_PERIOD_SECONDS);
        Replicator r = replicator;
        // The last pass's census. What passes copied is the counter cairn_repair_chunks_copied_total, not
        // a gauge of the last pass: the census pass that follows every repair copies nothing and would zero it.
        metrics.gauge("cairn_repair_chunks_below_replicas", () -> r.lastReport().belowReplicas());
        metrics.gauge("cairn_repair_chunks_below_write_quorum", () -> r.lastReport().belowWriteQuorum());
        metrics.gauge("cairn_repair_last_pass_finished_millis", () -> r.lastReport().finishedAtMillis());
        http = new HttpApiServer(meta, store, metrics, this::gatewayClient, config.http(), dev.cairn.engine.Clock.SYSTEM,
                handler.authenticator()).tls(tls);
        http.start(self.host(), self.httpPort());
    }

    /** This node's chunk-level view of its peers: connected to itself, created on first use. */
    private synchronized ChunkPeers peers() {
        if (peers == null) {
            peers = ChunkPeers.connect(selfClientConfig());
        }
        return peers;
    }

    /**
     * The client this node uses on behalf of HTTP callers: connected to itself, created on first
     * use; it reads the chunks this node holds in process.
     */
    private synchronized CairnClient gatewayClient() {
        if (gatewayClient == null) {
            gatewayClient = CairnClient.builder(selfClientConfig())
                    .localChunks(handler.localChunks()).build();
        }
        return gatewayClient;
    }

    /** A client of this node's cluster that presents the node's certificate: peers know it as a node. */
    private ClientConfig selfClientConfig() {
        return ClientConfig.parse(config.self().endpoint()).withTls(config.tls())
                .withToken(handler.authenticator().nodeToken());
    }

    /** The one line a node without TLS logs at start: what anyone who reaches it can do. */
    static String tlsOffWarning(NodeConfig config) {
        NodeAddress self = config.self();
        return "TLS IS OFF on node " + config.nodeId() + ": the protocol port " + self.endpoint() + ", the HTTP port "
                + self.host() + ":" + self.httpPort() + " and the Raft port " + self.host() + ":" + self.raftPort()
                + " are plain TCP; anyone who reaches them can read, write and delete every image unseen."
                + " Set tls.enabled with the cluster CA's certificate (docs/security.md)";
    }

    public NodeConfig config() {
        return config;
    }

    public MetaService meta() {
        return meta;
    }

    public NodeMetrics metrics() {
        return metrics;
    }

    public Replicator replicator() {
        return replicator;
    }

    public ChunkStore store() {
        return store;
    }

    /** A test seam: holds back this node's GET_CHUNKS answers by {@code delay}, to play a slow node. */
    public void delayChunkReads(java.time.Duration delay) {
        handler.delayChunkReads(delay);
    }

    /** Stops accepting requests first, then closes the catalog and the store. */
    @Override
    public void close() {
        closeQuietly(http);
        closeQuietly(replicator);
        synchronized (this) {
            closeQuietly(gatewayClient);
            closeQuietly(peers);
        }
        closeQuietly(protocol);
        closeQuietly(gcCoordinator);
        closeQuietly(meta);
        closeQuietly(gc);
        closeQuietly(store);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            System.err.println("cairn server: error while stopping " + c.getClass().getSimpleName() + ": " + e);
        }
    }
}
