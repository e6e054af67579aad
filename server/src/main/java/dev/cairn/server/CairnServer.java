package dev.cairn.server;

import dev.cairn.client.CairnClient;
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
import java.io.IOException;
import java.nio.file.Files;

/**
 * One Cairn node: its chunk store, its member of the Raft catalog group, and its protocol and
 * HTTP ports. Starting it on the data directory of an earlier run rejoins with that data.
 */
public final class CairnServer implements AutoCloseable {

    private final NodeConfig config;
    private final NodeMetrics metrics = new NodeMetrics();
    private ChunkStore store;
    private MetaService meta;
    private ProtocolServer protocol;
    private HttpApiServer http;
    private CairnClient gatewayClient;

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
        Files.createDirectories(config.dataDir());
        store = ChunkStore.open(config.dataDir().resolve("chunks"), ChunkStoreOptions.defaults());
        ChunkStore openedStore = store;
        metrics.gauge("cairn_store_chunks", openedStore::chunkCount);
        metrics.gauge("cairn_store_stored_bytes", openedStore::storedBytes);
        meta = MetaService.start(config);
        NodeAddress self = config.self();
        protocol = new ProtocolServer(new RequestHandler(config, store, meta), config.limits().maxFrameBytes(), metrics);
        protocol.start(self.host(), self.port());
        http = new HttpApiServer(meta, store, metrics, this::gatewayClient);
        http.start(self.host(), self.httpPort());
    }

    /** The client this node uses on behalf of HTTP callers: connected to itself, created on first use. */
    private synchronized CairnClient gatewayClient() {
        if (gatewayClient == null) {
            gatewayClient = CairnClient.connect(ClientConfig.parse(config.self().endpoint()));
        }
        return gatewayClient;
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

    public ChunkStore store() {
        return store;
    }

    /** Stops accepting requests first, then closes the catalog and the store. */
    @Override
    public void close() {
        closeQuietly(http);
        synchronized (this) {
            closeQuietly(gatewayClient);
        }
        closeQuietly(protocol);
        closeQuietly(meta);
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
