package dev.cairn.server.http;

import dev.cairn.client.CairnAdmin;
import dev.cairn.config.AuthConfig;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.HttpLimits;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.CairnServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** A real one-node cluster for the HTTP port's tests: Ratis, RocksDB and Netty on loopback. */
final class HttpNode implements AutoCloseable {

    private static final Set<Integer> GIVEN = new HashSet<>();

    private final CairnServer server;

    private HttpNode(CairnServer server) {
        this.server = server;
    }

    static HttpNode start(Path dir) throws Exception {
        return start(dir, HttpLimits.defaults());
    }

    static HttpNode start(Path dir, HttpLimits http) throws Exception {
        return start(dir, http, AuthConfig.OFF);
    }

    /**
     * A node with {@code auth.required: true} and a cluster secret in {@code dir}; {@link #token}
     * makes client tokens with it.
     */
    static HttpNode startWithAuth(Path dir, HttpLimits http) throws Exception {
        Files.createDirectories(dir);
        Path secret = Files.writeString(dir.resolve("cluster.secret"), "node." + "s3cr3t-".repeat(6) + System.nanoTime());
        return start(dir.resolve("data"), http, new AuthConfig(true, secret));
    }

    private static HttpNode start(Path dir, HttpLimits http, AuthConfig auth) throws Exception {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", freePort(), freePort(), freePort());
        NodeConfig config = new NodeConfig("node-1", dir, Quorum.defaultFor(1), List.of(self), Limits.defaults(), false)
                .withHttp(http).withAuth(auth);
        CairnServer server = CairnServer.start(config);
        if (!server.meta().awaitLeader(Duration.ofSeconds(60))) {
            server.close();
            throw new IllegalStateException("the node elected no Raft leader within 60 s");
        }
        return new HttpNode(server);
    }

    int httpPort() {
        return server.config().self().httpPort();
    }

    String endpoint() {
        return server.config().self().endpoint();
    }

    /** Every image name in the catalog, as the leader reads it. */
    List<String> images() throws Exception {
        return server.meta().listImages("", 1000).get(30, TimeUnit.SECONDS).stream()
                .map(ImageInfo::name).map(n -> n.value()).toList();
    }

    /** A new client token ({@code ID.SECRET}) of {@code role} for names under {@code prefixes}, made with the cluster secret. */
    String token(String role, String... prefixes) throws Exception {
        String secret = Files.readString(server.config().auth().clusterSecretFile()).strip();
        try (CairnAdmin admin = CairnAdmin.connect(ClientConfig.parse(endpoint()).withToken(secret))) {
            return admin.createToken("test-" + role, role, List.of(prefixes)).token();
        }
    }

    CairnServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
    }

    /** A loopback port no other node of this JVM was given. */
    private static synchronized int freePort() throws IOException {
        while (true) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (GIVEN.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
    }
}
