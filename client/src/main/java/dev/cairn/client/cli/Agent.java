package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A resident client for one host: it runs {@code put}, {@code get}, {@code ls}, {@code stat} and
 * {@code rm} for {@code bin/cairn}, which forwards them here when {@code $CAIRN_AGENT} names this
 * agent's state file. A checkpoint agent that calls the CLI once per checkpoint then pays neither a
 * JVM start nor a cold JIT per checkpoint, and keeps its connections to the cluster.
 *
 * <p>It listens on loopback only, and runs a request only for a caller that proves it holds the
 * token of the state file, which only its owner can read (mode 0600), because the agent reads and
 * writes files with its own rights; the agent proves it holds the token first, and neither side
 * sends it ({@link AgentHandshake}). The protocol ({@code docs/client.md}): the handshake, then the
 * request's NUL-terminated UTF-8 fields ({@link AgentRequest}); the answer is lines, {@code o TEXT}
 * for stdout, {@code e TEXT} for stderr, and last {@code x CODE}, the exit code.
 */
final class Agent implements AutoCloseable {

    static final Set<String> COMMANDS = Set.of("put", "get", "ls", "stat", "rm");
    /** Commands that run at once; further requests wait for a turn. */
    static final int MAX_RUNNING = 8;
    /** A request's fields arrive in one write; a connection that sends none for this long is dropped. */
    private static final int REQUEST_TIMEOUT_MS = 10_000;

    private final ServerSocket server;
    private final Path stateFile;
    private final AgentHandshake handshake;
    /** One line per command and per stopped command: what ran, for whom, how it ended. */
    private final PrintStream log;
    private final ExecutorService running = Executors.newFixedThreadPool(MAX_RUNNING, daemon("cairn-agent-command"));
    private final Map<ClientConfig, CairnClient> clients = new ConcurrentHashMap<>();
    private final Thread acceptor;
    private volatile boolean closed;
    /** Times the commands it runs, for its log, and is their invocations' clock. */
    private final dev.cairn.engine.Clock clock;

    private Agent(ServerSocket server, Path stateFile, AgentHandshake handshake, PrintStream log, dev.cairn.engine.Clock clock) {
        this.server = server;
        this.clock = clock;
        this.stateFile = stateFile;
        this.handshake = handshake;
        this.log = log;
        this.acceptor = daemon("cairn-agent-accept").newThread(this::acceptLoop);
    }

    /**
     * Listens on loopback {@code port} (0: any free one) and writes the state file, port and token,
     * readable by its owner only. Each command it runs gets a line in {@code log}.
     */
    static Agent start(int port, Path stateFile, PrintStream log) throws IOException {
        SecureRandom random = new SecureRandom();
        byte[] token = new byte[32];
        random.nextBytes(token);
        ServerSocket server = new ServerSocket();
        try {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
            writeState(stateFile, server.getLocalPort(), HexFormat.of().formatHex(token));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        Agent agent = new Agent(server, stateFile, new AgentHandshake(HexFormat.of().formatHex(token), random), log,
                dev.cairn.engine.Clock.SYSTEM);
        agent.acceptor.start();
        return agent;
    }

    /** Written beside its final name and moved over it, so a reader never sees half a file or a wider mode. */
    private static void writeState(Path stateFile, int port, String token) throws IOException {
        Path dir = stateFile.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".cairn-agent", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, port + " " + token + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, stateFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    int port() {
        return server.getLocalPort();
    }

    Path stateFile() {
        return stateFile;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue; // a connection that failed before it was accepted; keep serving the others
            }
            try {
                running.execute(() -> serve(socket));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                closeQuietly(socket); // closing down
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; OutputStream raw = socket.getOutputStream()) {
            TaggedLines answer = new TaggedLines(raw);
            int code;
            InputStream in = new BufferedInputStream(socket.getInputStream());
            try {
                code = run(readRequest(socket, in, answer), in, answer);
            } catch (AgentRequest.Refused e) {
                answer.line('e', "cairn: " + e.getMessage());
                code = e.exitCode();
            }
            answer.line('x', Integer.toString(code));
        } catch (IOException e) {
            // The caller went away. A command it started has run to its end all the same.
        }
    }

    private AgentRequest readRequest(Socket socket, InputStream in, TaggedLines answer)
            throws IOException, AgentRequest.Refused {
        socket.setSoTimeout(REQUEST_TIMEOUT_MS);
        try {
            AgentRequest request = AgentRequest.read(in, answer, handshake);
            socket.setSoTimeout(0);
            return request;
        } catch (SocketTimeoutException e) {
            throw new AgentRequest.Refused(2, "the request did not arrive within " + REQUEST_TIMEOUT_MS / 1000 + " s");
        }
    }

    private int run(AgentRequest request, InputStream fromCaller, TaggedLines answer)
            throws AgentRequest.Refused, IOException {
        String cwd = request.workingDir();
        List<String> args = request.args();
        if (args.isEmpty() || !COMMANDS.contains(args.get(0))) {
            throw new AgentRequest.Refused(2, "the agent runs " + String.join(", ", new java.util.TreeSet<>(COMMANDS))
                    + "; run other commands without CAIRN_AGENT");
        }
        if (args.contains("-")) {
            throw new AgentRequest.Refused(2, "the agent has no access to your stdin or stdout; run commands with - without CAIRN_AGENT");
        }
        Path workingDir = Path.of(cwd);
        if (!workingDir.isAbsolute()) {
            throw new AgentRequest.Refused(2, "the working directory must be absolute, not " + cwd);
        }
        TaggedLines.Stream out = answer.stream('o');
        TaggedLines.Stream err = answer.stream('e');
        PrintStream outPrint = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream errPrint = new PrintStream(err, true, StandardCharsets.UTF_8);
        Invocation invocation = new Invocation(outPrint, errPrint, workingDir, request.clusterEnv(),
                false, sharedClients, clock);
        String description = "'" + String.join(" ", args) + "' in " + cwd;
        CallerWatch watch = new CallerWatch(fromCaller, Thread.currentThread(), description, log);
        daemon("cairn-agent-caller").newThread(watch).start();
        long startNs = clock.nanoTime();
        int code = 1;
        try {
            code = CairnCli.run(args.toArray(String[]::new), invocation);
        } finally {
            watch.commandEnded();
            Thread.interrupted(); // a caller that left at the very end must not interrupt the next command
            log.printf(java.util.Locale.ROOT, "cairn agent: %s: exit %d in %.2f s%n", description, code,
                    (clock.nanoTime() - startNs) / 1e9);
        }
        outPrint.flush();
        errPrint.flush();
        out.finish();
        err.finish();
        return code;
    }

    /** Clients stay open between commands, one per cluster and settings; {@link #close} closes them. */
    private final Invocation.Clients sharedClients = new Invocation.Clients() {
        @Override
        public CairnClient open(ClientConfig config) {
            if (closed) {
                throw new IllegalStateException("the agent is stopping");
            }
            return clients.computeIfAbsent(config, CairnClient::connect);
        }

        @Override
        public void release(CairnClient client) {
            // kept for the next command
        }
    };

    /** Stops taking requests, lets running commands end (bounded), closes the clients and removes the state file. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        running.shutdown();
        try {
            running.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        clients.values().forEach(CairnClient::close);
        clients.clear();
        try {
            Files.deleteIfExists(stateFile);
        } catch (IOException e) {
            // a stale state file only makes the next caller fall back to running without the agent
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing left to do with it
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
