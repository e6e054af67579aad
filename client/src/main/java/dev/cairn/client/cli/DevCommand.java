package dev.cairn.client.cli;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.NodeStatus;
import dev.cairn.config.AuthConfig;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.ConfigException;
import dev.cairn.config.ConfigFiles;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.config.TlsConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cairn dev}: a real cluster on this machine, one {@code cairn server} process per node,
 * for development, demos and benchmarks.
 */
@Command(name = "dev", mixinStandardHelpOptions = true,
        description = {"Starts N real cairn server processes on loopback, each with its own data dir DIR/node-I/, "
                + "config DIR/node-I/cairn.yaml and pid file DIR/node-I/server.pid; waits until the Raft group has a "
                + "leader and every node answers; prints the export lines and 'ready'. Stays in the foreground; "
                + "Ctrl-C or SIGTERM stops all nodes cleanly. Started again on the same DIR, the nodes keep their data. "
                + "TLS and tokens are on unless --no-tls or --no-auth turn them off; a restart keeps what the first start chose."},
        subcommands = DevCommand.Stop.class,
        footer = {"", "Example:", "  cairn dev --data ./cairn-data &", "  # then, in the shell that runs the commands:",
            "  export CAIRN_CLUSTER=127.0.0.1:7400,127.0.0.1:7410,127.0.0.1:7420",
            "  export CAIRN_TOKEN_FILE=$PWD/cairn-data/admin.token",
            "  export CAIRN_TLS_CA=$PWD/cairn-data/tls/ca.pem"})
final class DevCommand implements Callable<Integer> {

    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

    @Option(names = "--nodes", defaultValue = "3", description = "number of nodes (default: ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--data", defaultValue = "cairn-data", paramLabel = "DIR", description = "data directory (default: ./${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--replicas", paramLabel = "N", description = "replicas per chunk (default: nodes, at most 3)")
    Integer replicas;

    @Option(names = "--write-quorum", paramLabel = "W", description = "write quorum (default: majority of N)")
    Integer writeQuorum;

    @Option(names = "--read-quorum", paramLabel = "R", description = "read quorum (default: majority of N)")
    Integer readQuorum;

    @Option(names = "--base-port", defaultValue = "7400", paramLabel = "P",
            description = "node I listens on P+10(I-1) (protocol), +1 (Raft), +2 (HTTP) (default: ${DEFAULT-VALUE})")
    int basePort;

    @Option(names = "--tls", description = "TLS on both ports of every node and on Raft (the default): makes a CA under "
            + "DIR/tls/ and a certificate per node under DIR/node-I/tls/, and prints export CAIRN_TLS_CA=DIR/tls/ca.pem; "
            + "CAIRN_HTTP is then https (curl --cacert \"$CAIRN_TLS_CA\")")
    boolean tlsOn;

    @Option(names = "--no-tls", description = "plain TCP on every port, for tools that cannot speak TLS and benchmarks of "
            + "the plain path: anyone who can reach the ports can read the traffic")
    boolean tlsOff;

    @Option(names = "--verbose", description = "print stack traces of errors")
    boolean verbose;

    @Option(names = "--auth", description = "require an access token on every request (the default; auth.required: true "
            + "in the configs it writes). Either way it makes DIR/cluster.secret and an admin token, DIR/admin.token, and "
            + "prints export CAIRN_TOKEN_FILE")
    boolean authOn;

    @Option(names = "--no-auth", description = "take requests without a token (auth.required: false): any process that "
            + "reaches a port may read, write and delete every image")
    boolean authOff;

    /** TLS and tokens as resolved from the flags, or from the configs of an earlier start on the same DIR. */
    private boolean tls;
    private boolean auth;

    @Override
    public Integer call() throws Exception {
        if (nodes < 1 || nodes > 9) {
            throw new ConfigException("--nodes must be between 1 and 9, got " + nodes);
        }
        Quorum defaults = Quorum.defaultFor(nodes);
        int n = replicas != null ? replicas : defaults.replicas();
        int majority = n / 2 + 1;
        // Refused here, before any process starts: the message names both numbers and the rule.
        Quorum quorum = new Quorum(n, writeQuorum != null ? writeQuorum : majority, readQuorum != null ? readQuorum : majority);
        if (quorum.replicas() > nodes) {
            throw new ConfigException("--replicas " + quorum.replicas() + " is more than --nodes " + nodes);
        }
        Path dataDir = data.toAbsolutePath().normalize();
        Files.createDirectories(dataDir);
        resolveSecurity(dataDir);
        List<Long> running = livePids(dataDir);
        if (!running.isEmpty()) {
            throw new ConfigException("a dev cluster already runs on " + data + " (pids " + running
                    + "); stop it with: cairn dev stop --data " + data);
        }
        List<Path> configs = writeConfigs(dataDir, quorum, new AuthConfig(auth, DevAuth.clusterSecret(dataDir)));
        List<NodeConfig> nodeConfigs = new ArrayList<>();
        for (Path c : configs) {
            nodeConfigs.add(ConfigFiles.loadNode(c));
        }
        checkPortsFree(nodeConfigs.get(0).nodes());

        Path launcher = launcher();
        List<Process> processes = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAll(processes, nodeConfigs), "cairn-dev-stop"));
        Files.writeString(dataDir.resolve("dev.pid"), ProcessHandle.current().pid() + "\n");
        for (NodeConfig node : nodeConfigs) {
            Path dir = node.dataDir();
            Path log = dir.resolve("server.log");
            ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "server", "--config", dir.resolve("cairn.yaml").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            Process p = pb.start();
            processes.add(p);
            Files.writeString(dir.resolve("server.pid"), p.pid() + "\n");
        }
        String cluster = nodeConfigs.get(0).nodes().stream().map(NodeAddress::endpoint).collect(Collectors.joining(","));
        // A data directory from before tokens keeps its configs, whose nodes know no cluster secret.
        Path nodeSecret = nodeConfigs.get(0).auth().clusterSecretFile();
        String nodeToken = nodeSecret == null ? null : TokenFile.read(nodeSecret);
        ClientConfig client = ClientConfig.parse(cluster).withToken(nodeToken)
                .withTls(tls ? TlsConfig.client(new DevTls(dataDir).caCert()) : TlsConfig.OFF);
        awaitReady(processes, nodeConfigs, client);
        Path adminToken = DevAuth.adminToken(dataDir, client);
        NodeAddress first = nodeConfigs.get(0).nodes().get(0);
        System.out.println("export CAIRN_CLUSTER=" + cluster);
        System.out.println("export CAIRN_TOKEN_FILE=" + adminToken);
        if (tls) {
            System.out.println("export " + ClientConfig.TLS_CA_ENV + "=" + client.tls().caCert());
        }
        System.out.println("export CAIRN_HTTP=" + (tls ? "https" : "http") + "://" + first.host() + ":" + first.httpPort());
        System.out.println("ready");
        System.out.flush();
        // Foreground until signalled (the hook stops the nodes) or until every node has exited.
        for (Process p : processes) {
            p.waitFor();
        }
        System.err.println("cairn dev: every node has exited");
        return 0;
    }

    /** Whether the dev nodes speak TLS and require tokens. */
    record Security(boolean tls, boolean auth) {

        /**
         * On unless turned off; a restart without flags keeps what the first start chose (its
         * node-1 config, {@code earlier}), so a cluster made with --no-tls needs no flag again.
         */
        static Security resolve(boolean tlsOn, boolean tlsOff, boolean authOn, boolean authOff, Optional<NodeConfig> earlier) {
            if (tlsOn && tlsOff) {
                throw new ConfigException("--tls and --no-tls contradict each other; give one of them");
            }
            if (authOn && authOff) {
                throw new ConfigException("--auth and --no-auth contradict each other; give one of them");
            }
            return new Security(tlsOn || (!tlsOff && earlier.map(c -> c.tls().enabled()).orElse(true)),
                    authOn || (!authOff && earlier.map(c -> c.auth().required()).orElse(true)));
        }
    }

    private void resolveSecurity(Path dataDir) {
        Path earlier = dataDir.resolve("node-1").resolve("cairn.yaml");
        Security security = Security.resolve(tlsOn, tlsOff, authOn, authOff,
                Files.exists(earlier) ? Optional.of(ConfigFiles.loadNode(earlier)) : Optional.empty());
        tls = security.tls();
        auth = security.auth();
    }

    private List<Path> writeConfigs(Path dataDir, Quorum quorum, AuthConfig authConfig) throws IOException {
        List<NodeAddress> addresses = new ArrayList<>();
        for (int i = 1; i <= nodes; i++) {
            int base = basePort + 10 * (i - 1);
            addresses.add(new NodeAddress("node-" + i, "127.0.0.1", base, base + 1, base + 2));
        }
        List<Path> configs = new ArrayList<>();
        // With --tls: the CA and each node's certificate, made on the first start and kept after.
        DevTls certificates = new DevTls(dataDir);
        java.time.Instant now = java.time.Instant.ofEpochMilli(Invocation.current().clock().millis());
        dev.cairn.protocol.transport.TlsCertificates.Issued ca = tls ? certificates.authority(now) : null;
        for (int i = 1; i <= nodes; i++) {
            Path dir = dataDir.resolve("node-" + i);
            Path file = dir.resolve("cairn.yaml");
            configs.add(file);
            if (Files.exists(file)) {
                NodeConfig existing = ConfigFiles.loadNode(file);
                if (!existing.quorum().equals(quorum) || existing.nodes().size() != nodes || existing.tls().enabled() != tls
                        || existing.auth().required() != auth) {
                    throw new ConfigException(file + " describes another cluster (" + existing.nodes().size() + " nodes, "
                            + "N=" + existing.quorum().replicas() + " W=" + existing.quorum().writeQuorum()
                            + " R=" + existing.quorum().readQuorum() + ", TLS " + (existing.tls().enabled() ? "on" : "off")
                            + ", tokens " + (existing.auth().required() ? "required" : "not required")
                            + "); use a new --data directory or the same settings");
                }
                continue; // a restart keeps the node's ports and data
            }
            Files.createDirectories(dir);
            NodeConfig node = new NodeConfig("node-" + i, dir, quorum, addresses, Limits.defaults(), false).withAuth(authConfig);
            ConfigFiles.writeNode(tls ? node.withTls(certificates.node(ca, node.self(), now)) : node, file);
        }
        return configs;
    }

    private static void checkPortsFree(List<NodeAddress> nodes) {
        for (NodeAddress a : nodes) {
            for (int port : new int[] {a.port(), a.raftPort(), a.httpPort()}) {
                try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName(a.host()))) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    throw new ConfigException("port " + port + " on " + a.host() + " is in use; stop what uses it or pass "
                            + "--base-port with a free range (existing configs in --data keep their ports)");
                }
            }
        }
    }

    /** Waits for every node and one leader, asking as a node (the cluster secret): no token exists yet. */
    private void awaitReady(List<Process> processes, List<NodeConfig> nodeConfigs, ClientConfig cluster) throws Exception {
        dev.cairn.engine.Clock clock = Invocation.current().clock();
        long deadline = clock.nanoTime() + START_TIMEOUT.toNanos();
        String lastProblem = "no node answered yet";
        while (clock.nanoTime() - deadline < 0) {
            for (int i = 0; i < processes.size(); i++) {
                if (!processes.get(i).isAlive()) {
                    Path log = nodeConfigs.get(i).dataDir().resolve("server.log");
                    throw new ConfigException("node-" + (i + 1) + " exited during start-up (code " + processes.get(i).exitValue()
                            + "): " + lastLine(log) + " (log: " + log + ")");
                }
            }
            try (CairnAdmin admin = CairnAdmin.connect(cluster)) {
                List<NodeStatus> statuses = admin.nodeStatuses();
                Set<String> leaders = new HashSet<>();
                statuses.forEach(s -> leaders.add(String.valueOf(s.leaderId())));
                if (statuses.size() == processes.size() && leaders.size() == 1 && !leaders.contains("null")) {
                    return;
                }
                lastProblem = statuses.size() + " of " + processes.size() + " nodes answer, leaders seen " + leaders;
            } catch (RuntimeException e) {
                lastProblem = e.getMessage();
            }
            Thread.sleep(250);
        }
        throw new ConfigException("the cluster did not become ready within " + START_TIMEOUT.toSeconds() + " s: " + lastProblem
                + "; see DIR/node-I/server.log");
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (!lines.get(i).isBlank()) {
                    return lines.get(i).trim();
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "(no output)";
    }

    private static void stopAll(List<Process> processes, List<NodeConfig> nodeConfigs) {
        for (Process p : processes) {
            p.destroy();
        }
        for (int i = 0; i < processes.size(); i++) {
            Process p = processes.get(i);
            try {
                if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
                Files.deleteIfExists(nodeConfigs.get(i).dataDir().resolve("server.pid"));
            } catch (InterruptedException | IOException e) {
                p.destroyForcibly();
            }
        }
        try {
            Files.deleteIfExists(nodeConfigs.get(0).dataDir().getParent().resolve("dev.pid"));
        } catch (IOException e) {
            // best effort
        }
    }

    /** bin/cairn of this checkout: the dev cluster runs the same build as the CLI. */
    static Path launcher() {
        String home = System.getProperty("cairn.home");
        if (home == null) {
            throw new ConfigException("cairn dev needs the cairn.home system property (bin/cairn sets it)");
        }
        Path launcher = Path.of(home, "bin", "cairn");
        if (!Files.isExecutable(launcher)) {
            throw new ConfigException(launcher + " is missing or not executable");
        }
        return launcher;
    }

    /** Pids recorded under {@code dataDir} whose processes still run. */
    static List<Long> livePids(Path dataDir) throws IOException {
        List<Long> live = new ArrayList<>();
        for (Path pidFile : pidFiles(dataDir)) {
            readPid(pidFile).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).ifPresent(h -> live.add(h.pid()));
        }
        return live;
    }

    static List<Path> pidFiles(Path dataDir) throws IOException {
        List<Path> files = new ArrayList<>();
        if (!Files.isDirectory(dataDir)) {
            return files;
        }
        Path dev = dataDir.resolve("dev.pid");
        if (Files.exists(dev)) {
            files.add(dev);
        }
        try (var dirs = Files.list(dataDir)) {
            dirs.filter(d -> d.getFileName().toString().startsWith("node-")).sorted()
                    .map(d -> d.resolve("server.pid")).filter(Files::exists).forEach(files::add);
        }
        return files;
    }

    static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stops the nodes of a dev cluster started on DIR (SIGTERM, then SIGKILL after 20 s).",
            footer = {"", "Example:", "  cairn dev stop --data ./cairn-data"})
    static final class Stop implements Callable<Integer> {
        @Option(names = "--data", defaultValue = "cairn-data", paramLabel = "DIR", description = "data directory (default: ./${DEFAULT-VALUE})")
        Path data;

        @Option(names = "--verbose", description = "print stack traces of errors")
        boolean verbose;

        @Override
        public Integer call() throws Exception {
            Path dataDir = data.toAbsolutePath().normalize();
            List<Path> files = pidFiles(dataDir);
            int stopped = 0;
            for (Path pidFile : files) {
                Optional<ProcessHandle> handle = readPid(pidFile).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
                if (handle.isPresent()) {
                    ProcessHandle h = handle.get();
                    h.destroy();
                    try {
                        h.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        h.destroyForcibly();
                        h.onExit().get(5, TimeUnit.SECONDS);
                    }
                    Path node = dataDir.relativize(pidFile).getParent();
                    System.out.println("stopped " + (node == null ? "the dev launcher and its nodes" : node.toString())
                            + " (pid " + h.pid() + ")");
                    stopped++;
                }
                Files.deleteIfExists(pidFile);
            }
            if (stopped == 0) {
                System.out.println("no running dev cluster on " + data);
            }
            return 0;
        }
    }
}
