package dev.cairn.server.meta;

import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.engine.Clock;
import dev.cairn.server.meta.CatalogException.Code;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's Ratis server in the metadata group: its peers, storage and properties, how it
 * starts (new, recovered, or joining), the Raft clients that talk to the group, and its close.
 */
final class RaftNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

    /** The one metadata group of a cluster; the same id on every node, derived from a fixed name. */
    static final RaftGroupId GROUP_ID =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("cairn-metadata".getBytes(StandardCharsets.UTF_8)));

    // Election timeouts for a LAN or loopback cluster: heartbeats are much more frequent, a
    // leader loss is noticed in 1-2 s.
    private static final TimeDuration ELECTION_TIMEOUT_MIN = TimeDuration.valueOf(1, TimeUnit.SECONDS);
    private static final TimeDuration ELECTION_TIMEOUT_MAX = TimeDuration.valueOf(2, TimeUnit.SECONDS);
    private static final SizeInBytes LOG_PREALLOCATED_SIZE = SizeInBytes.valueOf("1MB");
    // Two snapshots: the leader may still be sending the previous one when it takes the next.
    private static final int SNAPSHOTS_RETAINED = 2;
    private static final TimeDuration CLIENT_REQUEST_TIMEOUT = TimeDuration.valueOf(3, TimeUnit.SECONDS);
    /** The pause between a Raft client's attempts (the write client's and the admin client's). */
    static final TimeDuration CLIENT_RETRY_SLEEP = TimeDuration.valueOf(500, TimeUnit.MILLISECONDS);
    // 30 attempts 500 ms apart: about OPERATION_TIMEOUT when attempts fail fast (refused
    // connections); attempts that time out are cut off by OPERATION_TIMEOUT itself.
    private static final int CLIENT_MAX_ATTEMPTS = 30;
    private static final int PROBE_TIMEOUT_MS = 300;
    private static final long AWAIT_LEADER_POLL_MS = 50;

    private final RaftServer server;
    /** The group the clients talk to, to build a replacement. */
    private final RaftGroup group;
    /** Whether the Raft storage existed at start (a restart) rather than being formatted. */
    private final boolean recovered;
    /** The TLS of this node's Raft server and clients (the config's tls section); empty without TLS. */
    private final Parameters parameters;

    private RaftNode(RaftServer server, RaftGroup group, boolean recovered, Parameters parameters) {
        this.parameters = parameters;
        this.server = server;
        this.group = group;
        this.recovered = recovered;
    }

    /**
     * Builds and starts this node's Ratis server in the metadata group (peers: every node of the
     * config on its raft port; Raft storage in {@code dataDir/raft}, the catalog in
     * {@code dataDir/catalog}). {@code clock} is the clock a leader stamps into entries.
     */
    static RaftNode start(NodeConfig config, MetaService.Tuning tuning, Clock clock) throws IOException {
        NodeAddress self = config.self();
        Path raftDir = config.dataDir().resolve("raft");
        Path catalogDir = config.dataDir().resolve("catalog");
        Files.createDirectories(raftDir);
        RaftGroup group = group(config.nodes());

        // Ratis keeps a group's storage in raftDir/<group uuid>; FORMAT only the first time.
        boolean existing = Files.isDirectory(raftDir.resolve(GROUP_ID.getUuid().toString()));
        // A joining node starts in the group with no peers: it neither votes nor campaigns, and
        // waits until the leader adds it (setConfiguration) and sends it the log. Once it has
        // storage, its configuration comes from its log, like every other node's.
        boolean joining = config.join() && !existing;
        Parameters parameters = tlsParameters(config.tls());
        RaftServer server = RaftServer.newBuilder()
                .setParameters(parameters)
                .setServerId(RaftPeerId.valueOf(self.id()))
                .setGroup(joining ? RaftGroup.valueOf(GROUP_ID) : group)
                .setProperties(serverProperties(raftDir, self, tuning))
                .setStateMachine(new CatalogStateMachine(catalogDir, tuning.callWindowEntries(), clock))
                .setOption(existing ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
                .build();
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            closeQuietly(server);
            throw e;
        }
        LOG.info("metadata node {} started in group {} ({} storage, {})", self.id(), GROUP_ID,
                existing ? "recovered" : "new", joining ? "waiting to be added to the group" : config.nodes().size() + " peers");
        return new RaftNode(server, group, existing, parameters);
    }

    static RaftGroup group(List<NodeAddress> nodes) {
        return RaftGroup.valueOf(GROUP_ID, nodes.stream()
                .map(n -> peer(n.id(), n.host(), n.raftPort()))
                .toList());
    }

    static RaftPeer peer(String id, String host, int raftPort) {
        return RaftPeer.newBuilder().setId(id).setAddress(host + ":" + raftPort).build();
    }

    private static RaftProperties serverProperties(Path raftDir, NodeAddress self, MetaService.Tuning tuning) {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        // Bind where the peers are told to connect, not on every interface.
        GrpcConfigKeys.Server.setHost(p, self.host());
        GrpcConfigKeys.Server.setPort(p, self.raftPort());
        RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, ELECTION_TIMEOUT_MIN);
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, ELECTION_TIMEOUT_MAX);
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, tuning.segmentSizeMax());
        RaftServerConfigKeys.Log.setPreallocatedSize(p,
                SizeInBytes.valueOf(Math.min(LOG_PREALLOCATED_SIZE.getSize(), tuning.segmentSizeMax().getSize())));
        // Snapshots are RocksDB checkpoints (CatalogSnapshots). The log is purged up to the
        // latest snapshot even when a follower is behind it: that follower then catches up by
        // snapshot install, which for a catalog of image roots is cheap and keeps disk bounded.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, tuning.snapshotEveryEntries());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, SNAPSHOTS_RETAINED);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, tuning.purgeGapEntries());
        // The leader sends its snapshot files in chunks over the server RPC (ratis-grpc
        // implements InstallSnapshot); the default, but it is what the catch-up relies on.
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
        // Durability: Ratis fsyncs the log before an entry counts as appended (the default;
        // unsafe-flush stays off), so a commit acknowledged here is on a majority's disks.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
        return p;
    }

    /**
     * Mutual TLS for Raft with the node's own certificate and the cluster CA, for the server and
     * every client of the group; none when the node's TLS is off.
     */
    static Parameters tlsParameters(dev.cairn.config.TlsConfig tls) {
        Parameters p = new Parameters();
        if (tls.enabled()) {
            GrpcConfigKeys.TLS.setConf(p, new GrpcTlsConfig(tls.key().toFile(), tls.cert().toFile(), tls.caCert().toFile(), true));
        }
        return p;
    }

    /** The parameters (TLS) every Raft client of this node is built with. */
    Parameters parameters() {
        return parameters;
    }

    /** Properties of this node's Raft clients: gRPC, with a per-request timeout. */
    static RaftProperties clientProperties() {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, CLIENT_REQUEST_TIMEOUT);
        return p;
    }

    /** A client for writes: ordered, retried by Ratis (same client and call id, so the retry cache dedups them). */
    RaftClient newWriteClient() {
        return newClient(RetryPolicies.retryUpToMaximumCountWithFixedSleep(CLIENT_MAX_ATTEMPTS, CLIENT_RETRY_SLEEP));
    }

    /** A client for reads: single attempts, which the caller retries at the leader it knows. */
    RaftClient newReadClient() {
        return newClient(RetryPolicies.noRetry());
    }

    private RaftClient newClient(RetryPolicy retries) {
        return RaftClient.newBuilder().setProperties(clientProperties()).setParameters(parameters).setRaftGroup(group)
                .setRetryPolicy(retries).build();
    }

    /** Whether the Raft storage existed at start (a restart) rather than being formatted. */
    boolean recovered() {
        return recovered;
    }

    /** This node's member of the metadata group; UNAVAILABLE once it is not (or no longer) one. */
    RaftServer.Division division() {
        try {
            return server.getDivision(GROUP_ID);
        } catch (IOException e) {
            throw new CatalogException(Code.UNAVAILABLE, "this node is not (or no longer) a member of the metadata group: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Waits until this node knows a leader (and, if it is the leader, until it is ready to serve),
     * at most {@code timeout} on {@code clock}; false when it does not in time.
     */
    boolean awaitLeader(Duration timeout, Clock clock) throws InterruptedException {
        long deadline = clock.nanoTime() + timeout.toNanos();
        while (true) {
            DivisionInfo info = division().getInfo();
            if (info.getLeaderId() != null && (!info.isLeader() || info.isLeaderReady())) {
                return true;
            }
            if (clock.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(AWAIT_LEADER_POLL_MS);
        }
    }

    /** The catalog state machine of this node. */
    CatalogStateMachine stateMachine() {
        return (CatalogStateMachine) division().getStateMachine();
    }

    /** Whether a peer accepts a connection on its raft address ({@code host:port}) right now. */
    static boolean answers(String address) {
        int colon = address.lastIndexOf(':');
        return answers(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    }

    static boolean answers(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), PROBE_TIMEOUT_MS);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops the Raft server; closing it closes the catalog database. */
    @Override
    public void close() {
        closeQuietly(server);
    }

    static void closeQuietly(RaftClient c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.warn("closing a metadata client: {}", e.toString());
        }
    }

    private static void closeQuietly(RaftServer server) {
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("closing the Raft server: {}", e.toString());
        }
    }
}
