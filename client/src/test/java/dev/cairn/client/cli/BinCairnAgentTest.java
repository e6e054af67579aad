package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The part of {@code bin/cairn} that hands commands to an agent: which commands go, what goes on
 * the wire, how the answer comes out, and when the command runs in its own JVM instead. The real
 * script runs in a copy of the project's layout whose {@code java} only says how it was called,
 * and the agent is a socket in this test, so no JVM or cluster is started.
 */
class BinCairnAgentTest {

    @TempDir
    Path dir;

    Path home;
    Path javaHome;

    @BeforeEach
    void layout() throws IOException {
        home = dir.resolve("home");
        Path script = Files.createDirectories(home.resolve("bin")).resolve("cairn");
        Files.copy(Path.of(System.getProperty("user.dir")).resolveSibling("bin").resolve("cairn"), script);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String module : List.of("client", "server")) {
            Files.createDirectories(home.resolve(module + "/target/lib"));
            Files.createFile(home.resolve(module + "/target/cairn-" + module + ".jar"));
        }
        javaHome = dir.resolve("jdk");
        Path java = Files.createDirectories(javaHome.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/usr/bin/env bash\n"
                + "while [[ $# -gt 0 && $1 != dev.cairn.client.cli.CairnCli ]]; do shift; done\n"
                + "shift; echo \"local jvm: $*\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    record Run(int code, String out, String err) {}

    Run cairn(Path agentState, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", home.resolve("bin/cairn").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().put("CAIRN_AGENT", agentState.toString());
        pb.environment().put("CAIRN_CLUSTER", "127.0.0.1:7000");
        pb.environment().put("CAIRN_TOKEN_FILE", "tokens/team-a");
        pb.environment().remove("CAIRN_TLS_CA");
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String out = readAll(p.getInputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out, err.get());
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Path state(int port) throws IOException {
        Path state = dir.resolve("agent-state");
        Files.writeString(state, port + " " + TOKEN + "\n");
        return state;
    }

    static final String TOKEN = "ab".repeat(32);

    /** HMAC-SHA256 of {@code message} under the token's 32 bytes, in hex: what each side of the handshake proves. */
    static String proof(String tokenHex, String message) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(java.util.HexFormat.of().parseHex(tokenHex), "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The agent's side of the handshake and request, as the agent does it: the caller's tag and
     * nonce, this side's nonce and proof, then the caller's proof (checked here) and its fields
     * until its last environment variable. Returns the fields after the caller's proof.
     */
    private static List<String> handshakeAndRequest(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        assertEquals("cairn-agent-3", readField(in));
        String callerNonce = readField(in);
        assertTrue(callerNonce.matches("[0-9a-f]{64}"), callerNonce);
        String agentNonce = "cd".repeat(32);
        s.getOutputStream().write(("c " + agentNonce + " " + proof(TOKEN, "agent:" + callerNonce + ":" + agentNonce) + "\n")
                .getBytes(StandardCharsets.US_ASCII));
        assertEquals(proof(TOKEN, "caller:" + callerNonce + ":" + agentNonce), readField(in), "the caller's proof");
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fields.add(readField(in));
        }
        int argc = Integer.parseInt(fields.get(4));
        for (int i = 0; i < argc; i++) {
            fields.add(readField(in));
        }
        String envc = readField(in);
        fields.add(envc);
        for (int i = 0; i < Integer.parseInt(envc); i++) {
            fields.add(readField(in));
        }
        return fields;
    }

    private static String readField(InputStream in) throws IOException {
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        for (int b = in.read(); b != 0; b = in.read()) {
            if (b < 0) {
                throw new java.io.EOFException("the request ended after " + field);
            }
            field.write(b);
        }
        return field.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anImageCommandGoesToTheAgentAndItsAnswerComesOutAsItsOwn() throws Exception {
        try (ServerSocket agent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<List<String>> request = CompletableFuture.supplyAsync(() -> {
                try (Socket s = agent.accept()) {
                    List<String> fields = handshakeAndRequest(s);
                    s.getOutputStream().write("o stored x: 1 KiB\ne cairn: a warning\no {\"a\": \"b c\"}\nx 7\n"
                            .getBytes(StandardCharsets.UTF_8));
                    return fields;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Run r = cairn(state(agent.getLocalPort()), "put", "--json", "job/1", "dir with space");
            assertEquals(7, r.code(), "the agent's exit code is the command's");
            assertEquals("stored x: 1 KiB\n{\"a\": \"b c\"}\n", r.out());
            assertEquals("cairn: a warning\n", r.err());
            List<String> fields = request.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(dir.toRealPath().toString(), "127.0.0.1:7000", "tokens/team-a", "", "4",
                    "put", "--json", "job/1", "dir with space"), fields.subList(0, 9));
            // then the caller's PATH and CAIRN_* variables, for the processes a criu command starts
            List<String> environment = fields.subList(10, fields.size());
            assertEquals(Integer.parseInt(fields.get(9)), environment.size());
            assertTrue(environment.contains("CAIRN_CLUSTER=127.0.0.1:7000"), environment.toString());
            assertTrue(environment.stream().anyMatch(v -> v.startsWith("PATH=")), environment.toString());
            assertTrue(environment.stream().allMatch(v -> v.startsWith("PATH=") || v.startsWith("CAIRN_")), environment.toString());
        }
    }

    @Test
    void anAgentThatHangsUpMidCommandIsAnError() throws Exception {
        try (ServerSocket agent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture.runAsync(() -> {
                try (Socket s = agent.accept()) {
                    handshakeAndRequest(s);
                    s.getOutputStream().write("o half an answer\n".getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Run r = cairn(state(agent.getLocalPort()), "ls");
            assertEquals(1, r.code());
            assertEquals("half an answer\n", r.out());
            assertTrue(r.err().startsWith("cairn: the agent of " + dir.resolve("agent-state")
                    + " closed the connection before the command ended"), r.err());
        }
    }

    @Test
    void stdioCommandsAndOtherCommandsRunInTheirOwnJvmEvenWithAnAgent() throws Exception {
        try (ServerSocket agent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            Path state = state(agent.getLocalPort());
            Run stdin = cairn(state, "put", "job/1", "-");
            assertEquals("local jvm: put job/1 -\n", stdin.out());
            assertEquals("", stdin.err());
            Run admin = cairn(state, "admin", "health");
            assertEquals("local jvm: admin health\n", admin.out());
            // Neither connected: a connection would be waiting in the backlog by now.
            agent.setSoTimeout(1);
            assertThrows(SocketTimeoutException.class, agent::accept);
        }
    }

    @Test
    void withoutAnAnsweringAgentTheCommandRunsInItsOwnJvmAfterANote() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Run gone = cairn(state(closedPort), "stat", "job/1");
        assertEquals(0, gone.code());
        assertEquals("local jvm: stat job/1\n", gone.out());
        assertTrue(gone.err().contains("does not answer (is cairn agent running?); running without it"), gone.err());

        Run missing = cairn(dir.resolve("no-such-state"), "stat", "job/1");
        assertEquals("local jvm: stat job/1\n", missing.out());
        assertTrue(missing.err().contains("which is not an agent state file of yours; running without the agent"),
                missing.err());
    }

    /**
     * Something else on the agent's port (the agent stopped and another local user bound the port)
     * answers as it likes and records what it is sent.
     */
    private void impostor(String answer, String... args) throws Exception {
        try (ServerSocket port = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
                try (Socket s = port.accept()) {
                    s.getOutputStream().write(answer.getBytes(StandardCharsets.UTF_8));
                    s.setSoTimeout(20_000);
                    ByteArrayOutputStream got = new ByteArrayOutputStream();
                    try {
                        for (int b = s.getInputStream().read(); b >= 0; b = s.getInputStream().read()) {
                            got.write(b);
                        }
                    } catch (java.net.SocketException reset) {
                        // bin/cairn hung up with the answer unread: what it sent is all there is
                    }
                    return got.toString(StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Run r = cairn(state(port.getLocalPort()), args);
            assertOnlyTheChallenge(received.get(30, TimeUnit.SECONDS));
            assertEquals(4, r.code(), r.out() + r.err());
            assertEquals("", r.out(), "the command did not run, here or elsewhere");
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("cairn: whatever listens on port " + port.getLocalPort() + " could not prove it is "
                    + "the agent of " + dir.resolve("agent-state") + " (something else may hold the port"), r.err());
        }
    }

    private static void assertOnlyTheChallenge(String received) {
        assertFalse(received.contains(TOKEN), "the impostor got the token: " + received);
        assertFalse(received.contains("secret-job"), "the impostor got the arguments: " + received);
        assertTrue(received.matches("cairn-agent-3\u0000[0-9a-f]{64}\u0000"), "only the tag and a nonce: " + received);
    }

    @Test
    void anImpostorThatCannotProveItHoldsTheTokenGetsNeitherTheTokenNorTheCommand() throws Exception {
        impostor("c " + "cd".repeat(32) + " " + "0".repeat(64) + "\n", "put", "secret-job/1", "dir");
    }

    @Test
    void anImpostorThatAnswersAnythingElseOrHangsUpIsRefusedToo() throws Exception {
        impostor("e cairn: the agent refused the token\nx 0\n", "ls", "secret-job/");
        impostor("", "stat", "secret-job/1"); // says nothing: bin/cairn gives up after its 10 s

    }
}
