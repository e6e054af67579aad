package dev.cairn.server.meta;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.Clock;
import dev.cairn.engine.manifest.ImageRoot;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Three metadata nodes in this JVM on loopback ports, each with its own data directory. */
final class MetaCluster implements AutoCloseable {

    final List<NodeConfig> configs;
    private final MetaService[] services;
    private final MetaService.Tuning tuning;
    private final Clock clock;

    MetaCluster(Path root, int size) throws IOException {
        this(root, size, MetaService.Tuning.DEFAULT);
    }

    MetaCluster(Path root, int size, MetaService.Tuning tuning) throws IOException {
        this(root, size, tuning, Clock.SYSTEM);
    }

    /** {@code clock} is what every node stamps into session and GC entries when it leads. */
    MetaCluster(Path root, int size, MetaService.Tuning tuning, Clock clock) throws IOException {
        this.tuning = tuning;
        this.clock = clock;
        int[] ports = freePorts(size * 3);
        List<NodeAddress> nodes = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            nodes.add(new NodeAddress("n" + i, "127.0.0.1", ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]));
        }
        configs = new ArrayList<>();
        for (NodeAddress node : nodes) {
            configs.add(new NodeConfig(node.id(), root.resolve(node.id()), Quorum.defaultFor(size), nodes, Limits.defaults()));
        }
        services = new MetaService[size];
    }

    /** Starts every node and waits until each knows the leader. */
    MetaCluster startAll() throws IOException, InterruptedException {
        for (int i = 0; i < services.length; i++) {
            start(i);
        }
        // Polled on the wall clock: a node's own clock may be a ManualClock that never moves.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (MetaService s : services) {
            while (!s.awaitLeader(Duration.ZERO)) {
                assertTrue(System.nanoTime() - deadline < 0, "no leader elected within 30s");
                Thread.sleep(50);
            }
        }
        return this;
    }

    void start(int i) throws IOException {
        services[i] = MetaService.start(configs.get(i), tuning, clock);
    }

    void stop(int i) {
        if (services[i] != null) {
            services[i].close();
            services[i] = null;
        }
    }

    MetaService node(int i) {
        return services[i];
    }

    int size() {
        return services.length;
    }

    /** Index of the node that is leader in its own view, or -1. */
    int leader() {
        for (int i = 0; i < services.length; i++) {
            if (services[i] != null && services[i].status().role().equals("LEADER")) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void close() {
        for (int i = 0; i < services.length; i++) {
            stop(i);
        }
    }

    static ImageRoot root(String seed) {
        return new ImageRoot(ChunkId.of(seed.getBytes(StandardCharsets.UTF_8)), 1000, 400, 3, 7, 1_700_000_000_000L);
    }

    /** Distinct free ports: all sockets stay open until every port is chosen. */
    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0);
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }
}
