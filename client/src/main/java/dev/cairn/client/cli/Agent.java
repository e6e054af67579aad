package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
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
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
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
 * <p>It listens on loopback only. A request must carry the token of the state file, which only
 * its owner can read (mode 0600), because the agent reads and writes files with its own rights.
 * The protocol ({@code docs/client.md}): the request is NUL-terminated UTF-8 fields, {@link
 * #MAGIC}, the token, the caller's working directory, its {@code $CAIRN_CLUSTER} (empty when
 * unset), the number of arguments, then the arguments; the answer is lines, {@code o TEXT} for
 * stdout, {@code e TEXT} for stderr, and last {@code x CODE}, the exit code.
 */
final class Agent implements AutoCloseable {

    static final String MAGIC = "cairn-agent-1";
    static final Set<String> COMMANDS = Set.of("put", "get", "ls", "stat", "rm");
    /** Commands that run at once; further requests wait for a turn. */
    static final int MAX_RUNNING = 8;
    private static final int MAX_FIELD_BYTES = 64 * 1024;
    private static final int MAX_ARGS = 256;
    /** A request's fields arrive in one write; a connection that sends none for this long is dropped. */
    private static final int REQUEST_TIMEOUT_MS = 10_000;

    private final ServerSocket server;
    private final Path stateFile;
    private final byte[] token;
    /** One line per command and per stopped command: what ran, for whom, how it ended. */
    private final PrintStream log;
    private final ExecutorService running = Executors.newFixedThreadPool(MAX_RUNNING, daemon("cairn-agent-command"));
    private final Map<ClientConfig, CairnClient> clients = new ConcurrentHashMap<>();
    private final Thread acceptor;
    private volatile boolean closed;
    /** Times the commands it runs, for its log, and is their invocations' clock. */
    private final dev.cairn.engine.Clock clock;

    private Agent(ServerSocket server, Path stateFile, byte[] token, PrintStream log, dev.cairn.engine.Clock clock) {
        this.server = server;
        this.clock = clock;
        this.stateFile = stateFile;
        this.token = token;
        this.log = log;
        this.acceptor = daemon("cairn-agent-accept").newThread(this::acceptLoop);
    }

    /**
     * Listens on loopback {@code port} (0: any free one) and writes the state file, port and token,
     * readable by its owner only. Each command it runs gets a line in {@code log}.
     */
    static Agent start(int port, Path stateFile, PrintStream log) throws IOException {
        byte[] token = new byte[32];
        new SecureRandom().nextBytes(token);
        ServerSocket server = new ServerSocket();
        try {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
            writeState(stateFile, server.getLocalPort(), HexFormat.of().formatHex(token));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        Agent agent = new Agent(server, stateFile, HexFormat.of().formatHex(token).getBytes(StandardCharsets.US_ASCII), log,
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
                code = run(readRequest(socket, in), in, answer);
            } catch (BadRequest e) {
                answer.line('e', "cairn: " + e.getMessage());
                code = 2;
            }
            answer.line('x', Integer.toString(code));
        } catch (IOException e) {
            // The caller went away. A command it started has run to its end all the same.
        }
    }

    private int run(List<String> request, InputStream fromCaller, TaggedLines answer) throws BadRequest, IOException {
        String cwd = request.get(2);
        String clusterEnv = request.get(3);
        List<String> args = request.subList(5, request.size());
        if (args.isEmpty() || !COMMANDS.contains(args.get(0))) {
            throw new BadRequest("the agent runs " + String.join(", ", new java.util.TreeSet<>(COMMANDS))
                    + "; run other commands without CAIRN_AGENT");
        }
        if (args.contains("-")) {
            throw new BadRequest("the agent has no access to your stdin or stdout; run commands with - without CAIRN_AGENT");
        }
        Path workingDir = Path.of(cwd);
        if (!workingDir.isAbsolute()) {
            throw new BadRequest("the working directory must be absolute, not " + cwd);
        }
        TaggedLines.Stream out = answer.stream('o');
        TaggedLines.Stream err = answer.stream('e');
        PrintStream outPrint = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream errPrint = new PrintStream(err, true, StandardCharsets.UTF_8);
        Invocation invocation = new Invocation(outPrint, errPrint, workingDir, clusterEnv.isEmpty() ? null : clusterEnv,
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

    private List<String> readRequest(Socket socket, InputStream in) throws IOException, BadRequest {
        socket.setSoTimeout(REQUEST_TIMEOUT_MS);
        List<String> fields = new ArrayList<>();
        try {
            if (!readField(in).equals(MAGIC)) {
                throw new BadRequest("not a cairn agent request; is CAIRN_AGENT the state file that cairn agent printed?");
            }
            fields.add(MAGIC);
            byte[] given = readField(in).getBytes(StandardCharsets.US_ASCII);
            if (!MessageDigest.isEqual(given, token)) {
                throw new BadRequest("the agent refused the token; the state file in CAIRN_AGENT belongs to an agent "
                        + "that has been restarted since, or to another one");
            }
            fields.add("");
            fields.add(readField(in));
            fields.add(readField(in));
            String count = readField(in);
            int argc;
            try {
                argc = Integer.parseInt(count);
            } catch (NumberFormatException e) {
                throw new BadRequest("bad argument count in the request: " + count);
            }
            if (argc < 0 || argc > MAX_ARGS) {
                throw new BadRequest("a request carries 0 to " + MAX_ARGS + " arguments, not " + argc);
            }
            fields.add(count);
            for (int i = 0; i < argc; i++) {
                fields.add(readField(in));
            }
        } catch (SocketTimeoutException e) {
            throw new BadRequest("the request did not arrive within " + REQUEST_TIMEOUT_MS / 1000 + " s");
        }
        socket.setSoTimeout(0);
        return fields;
    }

    private static String readField(InputStream in) throws IOException, BadRequest {
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        for (int b = in.read(); b != 0; b = in.read()) {
            if (b < 0) {
                throw new EOFException("the request ended early");
            }
            if (field.size() == MAX_FIELD_BYTES) {
                throw new BadRequest("a request field is longer than " + MAX_FIELD_BYTES + " bytes");
            }
            field.write(b);
        }
        return field.toString(StandardCharsets.UTF_8);
    }

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

    /**
     * Stops a command whose caller went away (Ctrl-C, a killed script), as a CLI process would
     * stop with it: the caller sends nothing after its request, so the end of its stream means it
     * is gone, and the command's thread is interrupted. A put stopped this way commits no image;
     * what it stored is garbage that GC collects, as after a killed CLI.
     */
    private static final class CallerWatch implements Runnable {
        private final InputStream fromCaller;
        private final Thread command;
        private final String description;
        private final PrintStream log;
        private boolean ended;

        CallerWatch(InputStream fromCaller, Thread command, String description, PrintStream log) {
            this.fromCaller = fromCaller;
            this.command = command;
            this.description = description;
            this.log = log;
        }

        @Override
        public void run() {
            try {
                while (fromCaller.read() >= 0) {
                    // nothing is expected; read until the caller's end
                }
            } catch (IOException e) {
                // closed: by the caller, or by the agent once the command ended
            }
            synchronized (this) {
                if (!ended) {
                    log.println("cairn agent: stopping " + description + ": its caller went away");
                    command.interrupt();
                }
            }
        }

        synchronized void commandEnded() {
            ended = true;
        }
    }

    /** A request the agent will not run; its message goes to the caller's stderr. */
    private static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message);
        }
    }

    /**
     * The answer's lines: each stream's text, cut at newlines, goes out as whole lines tagged with
     * the stream's letter, so that stdout and stderr can share the connection.
     */
    static final class TaggedLines {
        private final OutputStream out;

        TaggedLines(OutputStream out) {
            this.out = out;
        }

        synchronized void line(char tag, String text) throws IOException {
            out.write((tag + " " + text.replace("\n", " ") + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** A stream whose lines go out tagged; {@link Stream#finish} sends a last line without its newline. */
        Stream stream(char tag) {
            return new Stream(tag);
        }

        final class Stream extends OutputStream {
            private final char tag;
            private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

            private Stream(char tag) {
                this.tag = tag;
            }

            @Override
            public void write(int b) throws IOException {
                if (b == '\n') {
                    emit();
                } else {
                    pending.write(b);
                }
            }

            void finish() throws IOException {
                if (pending.size() > 0) {
                    emit();
                }
            }

            private void emit() throws IOException {
                String text = pending.toString(StandardCharsets.UTF_8);
                pending.reset();
                line(tag, text);
            }
        }
    }
}
