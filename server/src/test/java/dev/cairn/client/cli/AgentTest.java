package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.it.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/cairn} with {@code CAIRN_AGENT} set hands put, get, ls, stat and rm to a resident
 * agent: the real script, a real agent on loopback and a real 3-node cluster. The script's
 * forwarding needs no jars, so these runs start no JVM of their own.
 */
class AgentTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static Agent agent;
    static Path work;
    static final java.io.ByteArrayOutputStream agentLog = new java.io.ByteArrayOutputStream();

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        agent = Agent.start(0, dir.resolve("state/agent"), new java.io.PrintStream(agentLog, true, StandardCharsets.UTF_8));
        work = Files.createDirectories(dir.resolve("work"));
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    record Run(int code, String out, String err) {
        List<String> lines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\n"));
        }
    }

    static Run cairn(Path state, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", binCairn().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
        Map<String, String> env = pb.environment();
        env.put("CAIRN_AGENT", state.toString());
        env.put("CAIRN_CLUSTER", cluster.endpoints());
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String out = readAll(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "bin/cairn " + String.join(" ", args) + " did not end");
        return new Run(p.exitValue(), out, err.get());
    }

    static Path binCairn() {
        return Path.of(System.getProperty("user.dir")).resolveSibling("bin").resolve("cairn");
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Path randomDir(String name, long seed) throws IOException {
        Path d = Files.createDirectories(work.resolve(name));
        Random random = new Random(seed);
        for (int i = 0; i < 3; i++) {
            byte[] bytes = new byte[100_000 + random.nextInt(200_000)];
            random.nextBytes(bytes);
            Files.write(d.resolve("pages-" + i + ".img"), bytes);
        }
        Files.createDirectories(d.resolve("empty"));
        return d;
    }

    @Test
    void putAndGetRunInTheAgentWithTheCallersPathsAndCluster() throws Exception {
        Path data = randomDir("dump-1", 1);
        long before = commandsLogged();

        Run put = cairn(agent.stateFile(), "put", "--json", "agent/dump-1", "dump-1");
        assertEquals(0, put.code(), put.err());
        assertEquals("", put.err(), "nothing on stderr: the command was not run without the agent");
        assertTrue(put.lines().get(0).startsWith("stored agent/dump-1: "), put.out());
        JsonNode json = new ObjectMapper().readTree(put.lines().get(put.lines().size() - 1));
        long logical = 0;
        for (int i = 0; i < 3; i++) {
            logical += Files.size(data.resolve("pages-" + i + ".img"));
        }
        assertEquals(logical, json.get("logicalBytes").asLong());

        Run get = cairn(agent.stateFile(), "get", "agent/dump-1", "restored-1");
        assertEquals(0, get.code(), get.err());
        assertEquals("restored agent/dump-1 into restored-1: " + Output.bytes(logical) + ", 4 entries", get.out().strip());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(Files.readAllBytes(data.resolve("pages-" + i + ".img")),
                    Files.readAllBytes(work.resolve("restored-1/pages-" + i + ".img")));
        }
        assertTrue(Files.isDirectory(work.resolve("restored-1/empty")));

        Run ls = cairn(agent.stateFile(), "ls", "agent/");
        assertEquals(0, ls.code(), ls.err());
        assertTrue(ls.out().startsWith("agent/dump-1\t" + logical + "\t"), ls.out());
        assertEquals(before + 3, commandsLogged(), "put, get and ls each ran once in the agent");
        String log = agentLog.toString(StandardCharsets.UTF_8);
        assertTrue(log.matches("(?s).*cairn agent: 'put --json agent/dump-1 dump-1' in " + java.util.regex.Pattern.quote(
                work.toString()) + ": exit 0 in \\d+\\.\\d\\d s\n.*"), log);
    }

    @Test
    void errorsKeepTheirMessageAndExitCode() throws Exception {
        Run missing = cairn(agent.stateFile(), "stat", "agent/none");
        assertEquals(3, missing.code(), "a missing image exits 3, as without the agent");
        assertEquals("", missing.out());
        assertEquals("cairn: image 'agent/none' not found; cairn ls lists the images", missing.err().strip());

        Run usage = cairn(agent.stateFile(), "put", "only-a-name");
        assertEquals(2, usage.code(), usage.err());
        assertTrue(usage.err().startsWith("Missing required parameter: 'PATH'"), usage.err());
        assertTrue(usage.err().contains("Usage: cairn put"), usage.err());

        Run notThere = cairn(agent.stateFile(), "put", "agent/x", "no-such-dir");
        assertEquals(1, notThere.code(), notThere.err());
        assertTrue(notThere.err().startsWith("cairn: ") && notThere.err().contains("no-such-dir"), notThere.err());
        assertFalse(notThere.err().contains("\tat "), "no stack trace without --verbose: " + notThere.err());
    }

    @Test
    void severalCallersAtOnceEachGetTheirOwnAnswer() throws Exception {
        List<CompletableFuture<Run>> runs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path data = randomDir("many-" + i, 100 + i);
            String name = "many/" + i;
            runs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return cairn(agent.stateFile(), "put", name, data.getFileName().toString());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (int i = 0; i < 4; i++) {
            Run r = runs.get(i).get(120, TimeUnit.SECONDS);
            assertEquals(0, r.code(), r.err());
            assertEquals(1, r.lines().size(), r.out());
            assertTrue(r.out().startsWith("stored many/" + i + ": "), r.out());
        }
    }

    @Test
    void aCallerWithoutTheTokenIsRefused() throws Exception {
        long before = commandsLogged();
        String port = Files.readString(agent.stateFile()).split(" ")[0];
        Path forged = dir.resolve("forged");
        Files.writeString(forged, port + " " + "0".repeat(64) + "\n");
        Files.setPosixFilePermissions(forged, PosixFilePermissions.fromString("rw-------"));
        // With another token the agent's proof does not check out: bin/cairn stops before it proves anything.
        Run r = cairn(forged, "ls");
        assertEquals(4, r.code(), r.err());
        assertTrue(r.err().startsWith("cairn: whatever listens on port " + port + " could not prove it is the agent"), r.err());
        assertEquals(before, commandsLogged());
    }

    @Test
    void whileAnotherUsersSilentConnectionsHangACommandStillRuns() throws Exception {
        List<Socket> silent = new ArrayList<>();
        try {
            for (int i = 0; i < 72; i++) {
                silent.add(new Socket(InetAddress.getLoopbackAddress(), agent.port()));
            }
            Run ls = cairn(agent.stateFile(), "ls", "nothing-here/");
            assertEquals(0, ls.code(), ls.err());
            assertEquals("", ls.err());
        } finally {
            for (Socket s : silent) {
                s.close();
            }
        }
    }

    @Test
    void theStateFileIsItsOwnersOnly() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(agent.stateFile())));
        String[] state = Files.readString(agent.stateFile()).strip().split(" ");
        assertEquals(Integer.toString(agent.port()), state[0]);
        assertEquals(64, state[1].length(), "a 32-byte token in hex");
    }

    @Test
    void commandsThatNeedTheCallersStdioOrAreNotImageCommandsAreNotRun() throws Exception {
        long before = commandsLogged();
        List<String> stdin = request("put", "agent/stdin", "-");
        assertEquals("x 2", stdin.get(stdin.size() - 1));
        assertTrue(stdin.get(0).startsWith("e cairn: the agent has no access to your stdin or stdout"), stdin.get(0));

        List<String> admin = request("admin", "health");
        assertEquals("x 2", admin.get(admin.size() - 1));
        assertEquals("e cairn: the agent runs criu, get, ls, put, rm, stat; run other commands without CAIRN_AGENT", admin.get(0));
        assertEquals(before, commandsLogged());
    }

    @Test
    void aCommandWhoseCallerLeavesStopsAndCommitsNothing() throws Exception {
        // A put that reads a tar from a pipe the test feeds: it is mid-entry, waiting for bytes,
        // when its caller goes away.
        Path big = Files.createDirectories(work.resolve("big")).resolve("pages.img");
        byte[] pages = new byte[8 << 20];
        new Random(7).nextBytes(pages);
        Files.write(big, pages);
        Path tar = work.resolve("big.tar");
        Process tarring = new ProcessBuilder("tar", "-cf", tar.toString(), "-C", big.getParent().toString(),
                big.getFileName().toString()).inheritIO().start();
        assertEquals(0, tarring.waitFor());
        byte[] archive = Files.readAllBytes(tar);
        Path fifo = work.resolve("slow.tar");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());

        String token = Files.readString(agent.stateFile()).strip().split(" ")[1];
        Socket caller = new Socket(InetAddress.getLoopbackAddress(), agent.port());
        send(caller, token, "put", "--tar", "agent/abandoned", "slow.tar");
        int half = archive.length / 2;
        int[] written = {half};
        try (OutputStream pipe = Files.newOutputStream(fifo)) { // opens once the agent opens its end
            pipe.write(archive, 0, half);
            pipe.flush();
            caller.close();
            // Once the agent has stopped the put, its end of the pipe is closed and writing fails,
            // well before the rest of the archive has gone in.
            assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> assertThrows(IOException.class, () -> {
                while (written[0] < archive.length) {
                    int n = Math.min(64 * 1024, archive.length - written[0]);
                    pipe.write(archive, written[0], n);
                    written[0] += n;
                }
            }, "the agent read the whole archive: the put was not stopped"));
        } catch (IOException closedAlready) {
            // the broken pipe again, from closing it
        }
        Run stat = cairn(agent.stateFile(), "stat", "agent/abandoned");
        assertEquals(3, stat.code(), "the stopped put committed no image: " + stat.out() + stat.err());
    }

    @Test
    void anAgentThatStopsRemovesItsStateFile() throws Exception {
        Path state = dir.resolve("second/agent");
        Agent second = Agent.start(0, state, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        assertTrue(Files.exists(state));
        second.close();
        assertFalse(Files.exists(state));
    }

    /** Commands the agent has run, by its log: a line each once it has ended (a command that ran in its own JVM has none). */
    private static long commandsLogged() {
        return agentLog.toString(StandardCharsets.UTF_8).lines().filter(l -> l.matches("cairn agent: '.*: exit -?\\d+ in .*")).count();
    }

    /** One request as bin/cairn sends it, with the right token; the answer's lines. */
    private static List<String> request(String... args) throws IOException {
        String token = Files.readString(agent.stateFile()).strip().split(" ")[1];
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            send(s, token, args);
            return List.of(readAll(s.getInputStream()).split("\n"));
        }
    }

    /** The handshake as bin/cairn does it, then the request; the agent's challenge line is consumed here. */
    private static void send(Socket s, String token, String... args) throws IOException {
        OutputStream out = s.getOutputStream();
        String callerNonce = "5a".repeat(32);
        write(out, List.of(AgentHandshake.TAG, callerNonce));
        InputStream in = s.getInputStream();
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            assertTrue(b >= 0, "the agent hung up during the handshake: " + line);
            line.append((char) b);
        }
        String agentNonce = line.toString().split(" ")[1];
        List<String> fields = new ArrayList<>(List.of(proof(token, "caller:" + callerNonce + ":" + agentNonce),
                work.toString(), cluster.endpoints(), "", "", Integer.toString(args.length)));
        fields.addAll(List.of(args));
        fields.add("0"); // no environment: only a criu command's child processes would use it
        write(out, fields);
    }

    private static void write(OutputStream out, List<String> fields) throws IOException {
        for (String f : fields) {
            out.write(f.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        out.flush();
    }

    static String proof(String tokenHex, String message) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(java.util.HexFormat.of().parseHex(tokenHex), "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
