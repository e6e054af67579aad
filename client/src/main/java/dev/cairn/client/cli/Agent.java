package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A resident client for one host: it runs {@code put}, {@code get}, {@code ls}, {@code stat},
 * {@code rm} and {@code criu} for {@code bin/cairn}, which forwards them here when {@code $CAIRN_AGENT} names this
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

    static final Set<String> COMMANDS = Set.of("put", "get", "ls", "stat", "rm", "criu");
    /** Commands other than criu's that run at once; further requests wait for a turn. */
    static final int MAX_RUNNING = 8;

    private final ServerSocket server;
    private final Path stateFile;
    private final AgentHandshake handshake;
    /** One line per command and per stopped command: what ran, for whom, how it ended. */
    private final PrintStream log;
    private final ExecutorService running = Executors.newFixedThreadPool(MAX_RUNNING, daemon("cairn-agent-command"));
    /** criu commands' threads: at most {@link AgentLimits#maxCriuCommands}, by {@link #criuTurns}. */
    private final ExecutorService criuRunning = Executors.newCachedThreadPool(daemon("cairn-agent-criu"));
    private final java.util.concurrent.Semaphore criuTurns;
    private final int maxCriu;
    /**
     * Reads handshakes and requests, a thread per connection, apart from the commands: a caller that
     * has not proved itself never holds one of their turns. {@link WaitingConnections} bounds how many.
     */
    private final ExecutorService readers = Executors.newCachedThreadPool(daemon("cairn-agent-read"));
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(daemon("cairn-agent-deadline"));
    private final WaitingConnections waiting;
    private final Map<ClientConfig, CairnClient> clients = new ConcurrentHashMap<>();
    private final Thread acceptor;
    private volatile boolean closed;
    /** Times the commands it runs, for its log, and is their invocations' clock. */
    private final dev.cairn.engine.Clock clock;

    private Agent(ServerSocket server, Path stateFile, AgentHandshake handshake, AgentLimits limits, PrintStream log,
                  dev.cairn.engine.Clock clock) {
        this.server = server;
        this.waiting = new WaitingConnections(limits, deadlines, log);
        this.maxCriu = limits.maxCriuCommands();
        this.criuTurns = new java.util.concurrent.Semaphore(maxCriu);
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
        return start(port, stateFile, log, AgentLimits.DEFAULT);
    }

    /** The same, with {@code limits} on the connections that have not completed their request. */
    static Agent start(int port, Path stateFile, PrintStream log, AgentLimits limits) throws IOException {
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
        Agent agent = new Agent(server, stateFile, new AgentHandshake(HexFormat.of().formatHex(token), random), limits, log,
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
            waiting.admit(socket);
            try {
                readers.execute(() -> read(socket));
            } catch (RejectedExecutionException e) {
                waiting.complete(socket);
                closeQuietly(socket); // closing down
            }
        }
    }

    /** The handshake and the request, then a turn to run it; a connection closed meanwhile (deadline, room) ends here. */
    private void read(Socket socket) {
        TaggedLines answer = null;
        try {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            answer = new TaggedLines(socket.getOutputStream());
            AgentRequest request = AgentRequest.read(in, answer, handshake);
            if (waiting.complete(socket)) {
                dispatch(socket, request, in, answer);
            }
        } catch (AgentRequest.Refused e) {
            if (waiting.complete(socket)) {
                answerAndClose(socket, answer, e);
            }
        } catch (IOException | RejectedExecutionException e) {
            waiting.complete(socket);
            closeQuietly(socket); // the caller went away, its deadline passed, or the agent is stopping
        }
    }

    /** A criu command on a criu turn, refused when all are taken; the others on the common turns. */
    private void dispatch(Socket socket, AgentRequest request, InputStream in, TaggedLines answer) {
        if (request.args().isEmpty() || !request.args().get(0).equals("criu")) {
            running.execute(() -> serve(socket, request, in, answer));
            return;
        }
        if (!criuTurns.tryAcquire()) {
            answerAndClose(socket, answer, new AgentRequest.Refused(1, "the agent already runs " + maxCriu
                    + " criu commands, the most it runs at once; wait for one to end, or run this one without CAIRN_AGENT"));
            return;
        }
        try {
            criuRunning.execute(() -> {
                try {
                    serve(socket, request, in, answer);
                } finally {
                    criuTurns.release();
                }
            });
        } catch (RejectedExecutionException e) {
            criuTurns.release();
            throw e;
        }
    }

    private static void answerAndClose(Socket socket, TaggedLines answer, AgentRequest.Refused refusal) {
        try (socket) {
            answer.line('e', "cairn: " + refusal.getMessage());
            answer.line('x', Integer.toString(refusal.exitCode()));
        } catch (IOException e) {
            // the caller went away
        }
    }

    private void serve(Socket socket, AgentRequest request, InputStream in, TaggedLines answer) {
        try (socket) {
            int code;
            try {
                code = run(request, in, answer);
            } catch (AgentRequest.Refused e) {
                answer.line('e', "cairn: " + e.getMessage());
                code = e.exitCode();
            }
            answer.line('x', Integer.toString(code));
        } catch (IOException e) {
            // The caller went away. A command it started has run to its end all the same.
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
        AgentCaller caller = new AgentCaller(workingDir, request.environment());
        Invocation invocation = new Invocation(outPrint, errPrint, workingDir, request.clusterEnv(),
                request.tokenFileEnv(), request.tlsCaEnv(), false, sharedClients, clock, caller);
        String description = "'" + String.join(" ", args) + "' in " + cwd;
        CallerWatch watch = new CallerWatch(fromCaller, Thread.currentThread(), caller::callerLeft, description, log);
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

    /**
     * Clients stay open between commands, one per cluster and settings, the caller's token and CA
     * among them (they are part of the {@link ClientConfig}): a caller never runs with another's
     * client. {@link #close} closes them.
     */
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
        waiting.closeAll();
        readers.shutdownNow();
        deadlines.shutdownNow();
        running.shutdown();
        criuRunning.shutdown();
        try {
            running.awaitTermination(30, TimeUnit.SECONDS);
            criuRunning.awaitTermination(1, TimeUnit.SECONDS); // a lazy-pages may serve for hours: not waited for
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
