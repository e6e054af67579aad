package dev.cairn.chaos;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Capability;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.ConfigFiles;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.client.CairnClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * N Cairn server containers on a user network with fixed addresses. The node YAML names those
 * addresses, and the test JVM reaches them directly (on Linux the host routes to a bridge
 * network's containers), so the client's CLUSTER_INFO view works from here unchanged.
 *
 * <p>Faults act on the containers: SIGKILL and start, pause and unpause, iptables DROP rules
 * inside them. Each has its heal; {@link #healAll()} undoes whatever is still in force.
 */
final class ChaosCluster implements AutoCloseable {

    static final int PORT = 7400;
    static final int RAFT_PORT = 7401;
    static final int HTTP_PORT = 7402;

    private final ChaosEnv env;
    private final Network network;
    private final String subnetPrefix;
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private final List<NodeAddress> addresses = new ArrayList<>();
    private final boolean[] killed;
    private final boolean[] paused;
    private final boolean[] stopped;
    private volatile boolean partitioned;
    private final Thread cleanup = new Thread(this::removeAll, "chaos-cluster-cleanup");

    private ChaosCluster(ChaosEnv env, Network network, String subnetPrefix, int nodes) {
        this.env = env;
        this.network = network;
        this.subnetPrefix = subnetPrefix;
        this.killed = new boolean[nodes];
        this.paused = new boolean[nodes];
        this.stopped = new boolean[nodes];
        // Ryuk is off (it would be pulled), so a JVM that dies mid-run removes its own containers.
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /** Starts {@code nodes} servers and waits until the cluster answers a catalog call. */
    static ChaosCluster start(ChaosEnv env, int nodes, Path configDir) throws Exception {
        ChaosCluster cluster = null;
        RuntimeException last = null;
        // A fixed-address network needs a subnet of our own; another run may hold the one we pick.
        Random pick = new Random();
        for (int attempt = 0; attempt < 8 && cluster == null; attempt++) {
            String prefix = "172.29." + (16 + pick.nextInt(200));
            Network network = Network.builder()
                    .createNetworkCmdModifier(cmd -> cmd.withIpam(new com.github.dockerjava.api.model.Network.Ipam()
                            .withConfig(new com.github.dockerjava.api.model.Network.Ipam.Config().withSubnet(prefix + ".0/24"))))
                    .build();
            try {
                network.getId();
                cluster = new ChaosCluster(env, network, prefix, nodes);
            } catch (RuntimeException e) {
                last = e;
                network.close();
            }
        }
        if (cluster == null) {
            throw new IllegalStateException("could not create a Docker network with a free subnet", last);
        }
        try {
            cluster.startAll(nodes, configDir);
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private void startAll(int nodes, Path configDir) throws Exception {
        for (int i = 1; i <= nodes; i++) {
            addresses.add(new NodeAddress("node-" + i, ip(i - 1), PORT, RAFT_PORT, HTTP_PORT));
        }
        Files.createDirectories(configDir);
        for (int i = 0; i < nodes; i++) {
            NodeAddress a = addresses.get(i);
            Path yaml = configDir.resolve(a.id() + ".yaml");
            ConfigFiles.writeNode(new NodeConfig(a.id(), Path.of("/data"), Quorum.defaultFor(nodes), addresses,
                    Limits.defaults()), yaml);
            String ip = a.host();
            GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(ChaosEnv.IMAGE))
                    .withNetwork(network)
                    .withNetworkAliases(a.id())
                    .withFileSystemBind(env.jdk.toString(), ChaosEnv.JDK_IN_CONTAINER, BindMode.READ_ONLY)
                    .withFileSystemBind(env.root.resolve("server/target").toString(), ChaosEnv.CAIRN_IN_CONTAINER + "/server",
                            BindMode.READ_ONLY)
                    .withFileSystemBind(yaml.toAbsolutePath().toString(), "/etc/cairn/cairn.yaml", BindMode.READ_ONLY)
                    .withCommand(ChaosEnv.JDK_IN_CONTAINER + "/bin/java", "-Xmx384m", "-XX:+UseSerialGC",
                            "-cp", ChaosEnv.CAIRN_IN_CONTAINER + "/server/cairn-server.jar:" + ChaosEnv.CAIRN_IN_CONTAINER
                                    + "/server/lib/*",
                            "dev.cairn.server.ServerMain", "--config", "/etc/cairn/cairn.yaml", "--verbose")
                    .withCreateContainerCmdModifier(cmd -> {
                        cmd.withIpv4Address(ip);
                        cmd.withName("cairn-chaos-" + subnetPrefix.replace('.', '-') + "-" + a.id());
                        // iptables needs NET_ADMIN; ALL alone is refused by the runtime here.
                        cmd.getHostConfig().withCapAdd(Capability.ALL).withCapDrop(Capability.SYS_RESOURCE);
                    })
                    .waitingFor(Wait.forLogMessage(".*serving: protocol.*", 1).withStartupTimeout(Duration.ofSeconds(120)));
            for (Path conf : env.jdkConfigDirs) {
                c.withFileSystemBind(conf.toString(), conf.toString(), BindMode.READ_ONLY);
            }
            containers.add(c);
        }
        containers.parallelStream().forEach(GenericContainer::start);
        awaitAvailable(Duration.ofSeconds(120));
    }

    String ip(int index) {
        return subnetPrefix + "." + (11 + index);
    }

    int size() {
        return containers.size();
    }

    String endpoints() {
        return addresses.stream().map(NodeAddress::endpoint).collect(Collectors.joining(","));
    }

    Network network() {
        return network;
    }

    CairnClient client(Duration requestTimeout) {
        return CairnClient.connect(new ClientConfig(addresses.stream().map(NodeAddress::endpoint).toList(), requestTimeout));
    }

    /** Waits until a catalog call succeeds (a Raft leader exists and a majority answers). */
    void awaitAvailable(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try (CairnClient c = client(Duration.ofSeconds(5))) {
                c.list("");
                return;
            } catch (RuntimeException e) {
                last = e;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("cluster not available within " + timeout + ": " + (last == null ? "" : last.getMessage()));
    }

    private String id(int index) {
        return containers.get(index).getContainerId();
    }

    private DockerClient docker() {
        return ChaosEnv.docker();
    }

    // ---- faults and heals ----

    synchronized void kill(int index) {
        docker().killContainerCmd(id(index)).withSignal("SIGKILL").exec();
        killed[index] = true;
    }

    synchronized void restart(int index) {
        if (killed[index]) {
            docker().startContainerCmd(id(index)).exec();
            killed[index] = false;
        }
    }

    /**
     * Freezes a node: {@code docker pause} (the cgroup freezer). The freezer can fail when a task
     * does not freeze in time ("unable to freeze", seen during fsync here); then the node's JVM
     * (its PID 1) gets SIGSTOP instead, which the kernel delivers from outside the namespace.
     * Returns how it was done.
     */
    synchronized String pause(int index) throws InterruptedException {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                docker().pauseContainerCmd(id(index)).exec();
                paused[index] = true;
                return "docker pause";
            } catch (RuntimeException e) {
                last = e;
                Thread.sleep(300);
            }
        }
        docker().killContainerCmd(id(index)).withSignal("SIGSTOP").exec();
        stopped[index] = true;
        return "SIGSTOP (docker pause failed: " + last.getMessage() + ")";
    }

    synchronized void unpause(int index) {
        if (paused[index]) {
            docker().unpauseContainerCmd(id(index)).exec();
            paused[index] = false;
        }
        if (stopped[index]) {
            docker().killContainerCmd(id(index)).withSignal("SIGCONT").exec();
            stopped[index] = false;
        }
    }

    /**
     * Cuts every link between a node of {@code sideA} and a node of {@code sideB}, in both
     * directions, with DROP rules inside the containers. Nodes in neither side keep all links
     * (a bridge). The test JVM keeps reaching every node.
     */
    synchronized void partition(List<Integer> sideA, List<Integer> sideB) throws Exception {
        for (int a : sideA) {
            for (int b : sideB) {
                drop(a, ip(b));
                drop(b, ip(a));
            }
        }
        partitioned = true;
    }

    private void drop(int node, String peer) throws Exception {
        exec(node, "iptables", "-A", "INPUT", "-s", peer, "-j", "DROP");
        exec(node, "iptables", "-A", "OUTPUT", "-d", peer, "-j", "DROP");
    }

    synchronized void healPartition() throws Exception {
        if (partitioned) {
            for (int i = 0; i < size(); i++) {
                if (!killed[i] && !paused[i] && !stopped[i]) {
                    exec(i, "iptables", "-F");
                }
            }
            partitioned = false;
        }
    }

    /** Undoes every fault still in force: unpause, flush rules, start killed nodes. */
    synchronized void healAll() throws Exception {
        for (int i = 0; i < size(); i++) {
            unpause(i);
        }
        healPartition();
        for (int i = 0; i < size(); i++) {
            restart(i);
        }
    }

    private void exec(int node, String... command) throws Exception {
        Container.ExecResult r = containers.get(node).execInContainer(command);
        if (r.getExitCode() != 0) {
            throw new IllegalStateException("node-" + (node + 1) + ": " + String.join(" ", command) + " exited "
                    + r.getExitCode() + ": " + r.getStderr().strip());
        }
    }

    /** Writes each node's stdout and stderr (all its runs) to {@code dir}/node-N.log. */
    void writeLogs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            return;
        }
        for (int i = 0; i < containers.size(); i++) {
            StringBuilder sb = new StringBuilder();
            try {
                docker().logContainerCmd(id(i)).withStdOut(true).withStdErr(true).withTimestamps(true)
                        .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Frame>() {
                            @Override
                            public void onNext(com.github.dockerjava.api.model.Frame frame) {
                                sb.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
                            }
                        }).awaitCompletion(30, TimeUnit.SECONDS);
                Files.writeString(dir.resolve("node-" + (i + 1) + ".log"), sb.toString());
            } catch (Exception e) {
                // a node whose logs cannot be read leaves no file; the history still says what happened
            }
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook is running
        }
        removeAll();
    }

    private synchronized void removeAll() {
        for (GenericContainer<?> c : containers) {
            try {
                if (c.getContainerId() != null) {
                    docker().removeContainerCmd(c.getContainerId()).withForce(true).withRemoveVolumes(true).exec();
                }
            } catch (RuntimeException e) {
                // already gone
            }
        }
        try {
            network.close();
        } catch (RuntimeException e) {
            // already gone
        }
    }
}
