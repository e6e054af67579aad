package dev.cairn.it;

import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.server.CairnServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** A real cluster in this JVM: real Ratis, RocksDB and Netty on loopback ports. */
public final class TestCluster implements AutoCloseable {

    private final List<NodeConfig> configs = new ArrayList<>();
    private final List<CairnServer> servers = new ArrayList<>();
    private final Path dir;
    private final Quorum quorum;

    private TestCluster(int nodes, Quorum quorum, Path dir) throws IOException {
        this(new String[nodes], quorum, dir);
    }

    /** One node per entry of {@code zones} (null: no zone). */
    private TestCluster(String[] zones, Quorum quorum, Path dir) throws IOException {
        this.dir = dir;
        this.quorum = quorum;
        List<NodeAddress> addresses = new ArrayList<>();
        for (int i = 1; i <= zones.length; i++) {
            addresses.add(new NodeAddress("node-" + i, "127.0.0.1", TestPorts.free(), TestPorts.free(), TestPorts.free(), zones[i - 1]));
        }
        for (NodeAddress a : addresses) {
            configs.add(new NodeConfig(a.id(), dir.resolve(a.id()), quorum, addresses, Limits.defaults()));
            servers.add(null);
        }
    }

    /**
     * Starts a new node as an operator would before {@code cairn admin nodes add}: its config lists
     * the first nodes and itself, with {@code join: true}. Returns its index.
     */
    int startJoiningNode(String id) throws IOException {
        NodeAddress address = new NodeAddress(id, "127.0.0.1", TestPorts.free(), TestPorts.free(), TestPorts.free());
        List<NodeAddress> nodes = new ArrayList<>(configs.get(0).nodes());
        nodes.add(address);
        configs.add(new NodeConfig(id, dir.resolve(id), quorum, nodes, Limits.defaults(), true));
        servers.add(null);
        int index = configs.size() - 1;
        startNode(index);
        return index;
    }

    /** Starts one node per zone given (node-1 in the first zone, ...), with the default quorums. */
    static TestCluster startInZones(Path dir, String... zones) throws Exception {
        TestCluster cluster = new TestCluster(zones, Quorum.defaultFor(zones.length), dir);
        for (int i = 0; i < zones.length; i++) {
            cluster.startNode(i);
        }
        cluster.awaitLeader();
        return cluster;
    }

    /**
     * Starts {@code nodes} nodes with {@code auth.required: true} and one cluster secret, in
     * {@code dir/cluster.secret}; {@link #nodeToken()} is that secret, which acts as a node.
     */
    public static TestCluster startWithAuth(int nodes, Path dir) throws Exception {
        TestCluster cluster = new TestCluster(nodes, Quorum.defaultFor(nodes), dir);
        java.nio.file.Files.createDirectories(dir);
        Path secret = dir.resolve("cluster.secret");
        java.nio.file.Files.writeString(secret, "node." + "s3cr3t-".repeat(6) + System.nanoTime());
        for (int i = 0; i < nodes; i++) {
            cluster.configs.set(i, cluster.configs.get(i).withAuth(new dev.cairn.config.AuthConfig(true, secret)));
        }
        for (int i = 0; i < nodes; i++) {
            cluster.startNode(i);
        }
        cluster.awaitLeader();
        return cluster;
    }

    /** The cluster secret of a cluster started {@link #startWithAuth with auth}: it authenticates as a node. */
    public String nodeToken() throws IOException {
        return java.nio.file.Files.readString(configs.get(0).auth().clusterSecretFile()).strip();
    }

    public static TestCluster start(int nodes, Path dir) throws Exception {
        TestCluster cluster = new TestCluster(nodes, Quorum.defaultFor(nodes), dir);
        for (int i = 0; i < nodes; i++) {
            cluster.startNode(i);
        }
        cluster.awaitLeader();
        return cluster;
    }

    void startNode(int index) throws IOException {
        servers.set(index, CairnServer.start(configs.get(index)));
    }

    void stopNode(int index) {
        if (servers.get(index) != null) {
            servers.get(index).close();
            servers.set(index, null);
        }
    }

    int size() {
        return servers.size();
    }

    void awaitLeader() throws InterruptedException {
        for (CairnServer s : servers) {
            if (s != null && !s.meta().awaitLeader(Duration.ofSeconds(60))) {
                throw new IllegalStateException("no Raft leader within 60 s");
            }
        }
    }

    /** Waits (bounded) until one of the running nodes reports itself leader, as after a leader was stopped. */
    void awaitRunningLeader() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (CairnServer s : servers) {
                if (s != null && "LEADER".equals(s.meta().status().role())) {
                    return;
                }
            }
            Thread.sleep(50); // polling a condition with a deadline, not waiting for luck
        }
        throw new IllegalStateException("no running node became leader within 60 s");
    }

    /** Index of the node that is the Raft leader now (as the nodes themselves report). */
    int leaderIndex() {
        for (int i = 0; i < servers.size(); i++) {
            if (servers.get(i) != null && "LEADER".equals(servers.get(i).meta().status().role())) {
                return i;
            }
        }
        throw new IllegalStateException("no node reports itself leader");
    }

    public String endpoints() {
        return configs.get(0).nodes().stream().map(NodeAddress::endpoint).collect(Collectors.joining(","));
    }

    public CairnClient client() {
        return CairnClient.connect(ClientConfig.parse(endpoints()));
    }

    /** A client whose puts lease their upload sessions for {@code sessionLease}. */
    public CairnClient client(java.time.Duration sessionLease) {
        return CairnClient.builder(ClientConfig.parse(endpoints())).sessionLease(sessionLease).build();
    }

    NodeConfig config(int index) {
        return configs.get(index);
    }

    /**
     * Waits until every node's store holds as many chunks as the first's: with N equal to the
     * number of nodes, every chunk on every node. A put answers after N_W copies are durable, so
     * the last copy may still be on its way. Returns false if that takes longer than {@code timeout}.
     */
    public boolean awaitSameChunkCounts(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long first = servers.get(0).store().chunkCount();
            if (servers.stream().allMatch(s -> s.store().chunkCount() == first)) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
    }

    public CairnServer server(int index) {
        return servers.get(index);
    }


    @Override
    public void close() {
        for (int i = 0; i < servers.size(); i++) {
            stopNode(i);
        }
    }
}
