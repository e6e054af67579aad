package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.criu.RecordedDumps;
import dev.cairn.it.TestCluster;
import dev.cairn.it.CliTest;
import dev.cairn.it.CliTest.Run;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn criu dump} run in a real agent on loopback for {@code bin/cairn}, against a
 * stand-in for criu (a shell script that speaks a recorded page-server conversation, as
 * CriuCommandTest's does): the same output and exit code as without the agent, criu found on
 * the caller's PATH and run in the caller's directory, a caller that goes away stops criu and
 * stores nothing, and criu commands have turns of their own.
 */
class AgentCriuTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;
    static Agent agent;
    static Path work;
    static Path bin;
    static final ByteArrayOutputStream agentLog = new ByteArrayOutputStream();

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        agent = Agent.start(0, dir.resolve("state/agent"), new PrintStream(agentLog, true, StandardCharsets.UTF_8));
        work = Files.createDirectories(dir.resolve("work"));
        Files.write(work.resolve("conversation.bin"), RecordedDumps.oneTask(64, 1));
        bin = Files.createDirectories(dir.resolve("bin")); // on the caller's PATH only, not the agent's
        Path fake = bin.resolve("fake-criu");
        Files.writeString(fake, String.join("\n",
                "#!/bin/bash",
                "# fake-criu dump -D DIR --page-server --address A --port P STREAM|wait|stall EXIT [PIDFILE]",
                "set -e",
                "shift",
                "extra=()",
                "while [ $# -gt 0 ]; do case \"$1\" in",
                "  -D) dir=$2; shift 2;; --address) addr=$2; shift 2;; --port) port=$2; shift 2;;",
                "  --page-server) shift;; *) extra+=(\"$1\"); shift;; esac; done",
                "echo \"fake-criu: dumping to the page server on port $port\" >&2",
                "echo 'fake-criu: a line on its stdout'",
                // before it connects: hold a criu turn of the agent until stopped
                "if [ \"${extra[0]}\" = wait ]; then echo $$ > \"${extra[2]}\"; exec sleep 600; fi",
                "if [ \"${extra[0]}\" = none ]; then echo 'fake-criu: cannot seize task' >&2; exit ${extra[1]}; fi",
                "stream=${extra[0]}; [ \"$stream\" = stall ] && stream=conversation.bin",
                "exec 3<>/dev/tcp/$addr/$port",
                "head -c 24 \"$stream\" >&3",
                "head -c 1 <&3 > \"$dir/answers\"",
                // midway through the pages: the stream is open and incomplete until criu is stopped
                "if [ \"${extra[0]}\" = stall ]; then head -c 40000 conversation.bin | tail -c +25 >&3; echo $$ > \"${extra[2]}\"; exec sleep 600; fi",
                "tail -c +25 \"$stream\" >&3",
                "head -c 4 <&3 >> \"$dir/answers\"",
                "printf 'core of 100' > \"$dir/core-100.img\"",
                "exit ${extra[1]}",
                ""));
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }


    /** bin/cairn with the agent, run in the work directory with the stand-in's directory first on PATH. */
    static Process binCairn(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", AgentTest.binCairn().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
        Map<String, String> env = pb.environment();
        env.put("CAIRN_AGENT", agent.stateFile().toString());
        env.put("CAIRN_CLUSTER", cluster.endpoints());
        env.put("PATH", bin + ":" + env.get("PATH"));
        return pb.start();
    }

    static Run withAgent(String... args) throws Exception {
        Process p = binCairn(args);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String out = readAll(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "bin/cairn " + String.join(" ", args) + " did not end");
        return new Run(p.exitValue(), out, err.get());
    }

    /** The same command in this JVM as a CLI process runs it (its paths absolute: this JVM's directory is not the work's). */
    static Run withoutAgent(String... args) {
        return CliTest.cairn(args);
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Output with the image name, criu's path as given, and every figure (ports, sizes and their
     * units: the second of two equal dumps sends less) made alike.
     */
    private static String normalized(String text, String name) {
        return text.replace(name, "NAME").replace(bin.resolve("fake-criu").toString(), "fake-criu")
                .replaceAll("\\d+(\\.\\d+)? (B|KiB|MiB)\\b", "SIZE").replaceAll("\\d+(\\.\\d+)?", "N");
    }

    @Test
    void aDumpPrintsTheSameAndExitsTheSameWithAndWithoutTheAgent() throws Exception {
        Run with = withAgent("criu", "dump", "agent-criu/with", "--json", "--criu", "fake-criu", "--",
                "conversation.bin", "0");
        Run without = withoutAgent("criu", "dump", "agent-criu/without", "--cluster", cluster.endpoints(), "--json",
                "--criu", bin.resolve("fake-criu").toString(), "--", work.resolve("conversation.bin").toString(), "0");
        assertEquals(0, without.code(), without.err());
        assertEquals(without.code(), with.code(), with.err());
        assertTrue(with.out().startsWith("stored agent-criu/with: "), with.out());
        assertEquals(normalized(without.out(), "agent-criu/without"), normalized(with.out(), "agent-criu/with"));
        assertEquals(normalized(without.err(), "agent-criu/without"), normalized(with.err(), "agent-criu/with"));
        assertTrue(with.err().contains("fake-criu: a line on its stdout"), "criu's own output reaches the caller: " + with.err());
        assertTrue(with.err().contains("fake-criu: dumping to the page server on port "), with.err());
        assertEquals("agent-criu/with", client.stat("agent-criu/with").name().value(), "the dump is stored");
    }

    @Test
    void aFailingCriuPrintsTheSameAndExitsTheSameWithAndWithoutTheAgent() throws Exception {
        Run with = withAgent("criu", "dump", "agent-criu/failed", "--criu", "fake-criu", "--", "none", "3");
        Run without = withoutAgent("criu", "dump", "agent-criu/failed", "--cluster", cluster.endpoints(),
                "--criu", bin.resolve("fake-criu").toString(), "--", "none", "3");
        assertEquals(1, without.code(), without.err());
        assertEquals(without.code(), with.code());
        assertEquals(without.out(), with.out());
        assertEquals(normalized(without.err(), "agent-criu/failed"), normalized(with.err(), "agent-criu/failed"));
        assertTrue(with.err().contains("fake-criu: cannot seize task"), with.err());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("agent-criu/failed"));
    }

    @Test
    void aCallerKilledMidDumpStopsCriuAndStoresNothing() throws Exception {
        Path pidFile = work.resolve("stalled.pid");
        Process caller = binCairn("criu", "dump", "agent-criu/abandoned", "--criu", "fake-criu", "--", "stall", "0",
                pidFile.toString());
        long pid = awaitPid(pidFile);
        assertTrue(ProcessHandle.of(pid).isPresent(), "criu runs, midway through its pages");
        caller.destroy(); // bin/cairn killed: its connection to the agent closes
        assertTrue(caller.waitFor(30, TimeUnit.SECONDS));
        await(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "the agent stopped criu");
        await(() -> agentLog.toString(StandardCharsets.UTF_8).contains("'criu dump agent-criu/abandoned --criu fake-criu -- stall 0 "
                + pidFile + "' in " + work + ": exit "), "the command ended");
        assertTrue(agentLog.toString(StandardCharsets.UTF_8).contains("stopping 'criu dump agent-criu/abandoned"), agentLog.toString());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("agent-criu/abandoned"));
    }

    @Test
    void criuCommandsHaveTurnsOfTheirOwnAndOneTooManyIsRefused() throws Exception {
        List<Socket> callers = new ArrayList<>();
        List<Long> pids = new ArrayList<>();
        try {
            for (int i = 0; i < AgentLimits.DEFAULT.maxCriuCommands(); i++) {
                Path pidFile = work.resolve("waiting-" + i + ".pid");
                Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port());
                callers.add(s);
                send(s, "criu", "dump", "agent-criu/waiting-" + i, "--cluster", cluster.endpoints(),
                        "--criu", bin.resolve("fake-criu").toString(), "--", "wait", "0", pidFile.toString());
                pids.add(awaitPid(pidFile));
            }
            List<String> refused = request("criu", "dump", "agent-criu/one-more", "--cluster", cluster.endpoints(),
                    "--criu", bin.resolve("fake-criu").toString(), "--", "wait", "0", work.resolve("more.pid").toString());
            assertEquals(List.of("e cairn: the agent already runs " + AgentLimits.DEFAULT.maxCriuCommands() + " criu commands, the most it runs at "
                    + "once; wait for one to end, or run this one without CAIRN_AGENT", "x 1"), refused);
            assertTrue(Files.notExists(work.resolve("more.pid")));
            List<String> ls = request("ls", "--cluster", cluster.endpoints());
            assertEquals("x 0", ls.get(ls.size() - 1), "other commands still run: " + ls);
        } finally {
            for (Socket s : callers) {
                s.close();
            }
        }
        for (long pid : pids) {
            await(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "criu " + pid + " stopped");
        }
    }

    private static long awaitPid(Path pidFile) throws Exception {
        await(() -> {
            try {
                return Files.exists(pidFile) && Files.readString(pidFile).strip().matches("\\d+");
            } catch (IOException e) {
                return false;
            }
        }, "the stand-in wrote " + pidFile);
        return Long.parseLong(Files.readString(pidFile).strip());
    }

    /** Polls {@code condition} for up to 60 s. */
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what + "; agent log: " + agentLog);
            Thread.sleep(50);
        }
    }

    private static List<String> request(String... args) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            send(s, args);
            return List.of(readAll(s.getInputStream()).split("\n"));
        }
    }

    /** The handshake and request as bin/cairn sends them, with this JVM's PATH; the agent's challenge line is consumed. */
    private static void send(Socket s, String... args) throws IOException {
        String token = Files.readString(agent.stateFile()).strip().split(" ")[1];
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
        List<String> fields = new ArrayList<>(List.of(AgentTest.proof(token, "caller:" + callerNonce + ":" + agentNonce),
                work.toString(), "", "", "", Integer.toString(args.length)));
        fields.addAll(List.of(args));
        fields.addAll(List.of("1", "PATH=" + System.getenv("PATH")));
        write(out, fields);
    }

    private static void write(OutputStream out, List<String> fields) throws IOException {
        for (String f : fields) {
            out.write(f.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        out.flush();
    }
}
