package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of the mutual challenge, on a real agent over loopback (no cluster: the
 * commands here need none): it proves it holds the token without sending it, and runs nothing
 * for a caller that cannot prove the same.
 */
class AgentHandshakeTest {

    @TempDir
    Path dir;

    Agent agent;
    final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws IOException {
        agent = Agent.start(0, dir.resolve("agent"), new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        agent.close();
    }

    String token() throws IOException {
        return Files.readString(agent.stateFile()).strip().split(" ")[1];
    }

    static void send(OutputStream out, String... fields) throws IOException {
        for (String f : fields) {
            out.write(f.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        out.flush();
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n' && b >= 0; b = in.read()) {
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    static List<String> rest(InputStream in) throws IOException {
        String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        return all.isEmpty() ? List.of() : List.of(all.split("\n"));
    }

    long commandsRun() {
        return log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.matches("cairn agent: '.*: exit -?\\d+ in .*")).count();
    }

    /** Connects, sends the tag and {@code callerNonce}, and returns the agent's challenge line split: c, nonce, proof. */
    static String[] challenge(Socket s, String callerNonce) throws IOException {
        send(s.getOutputStream(), "cairn-agent-2", callerNonce);
        return readLine(s.getInputStream()).split(" ");
    }

    @Test
    void theAgentProvesItHoldsTheTokenWithoutSendingIt() throws Exception {
        String callerNonce = "12".repeat(32);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            s.setSoTimeout(10_000);
            String[] c = challenge(s, callerNonce);
            assertEquals(3, c.length, String.join(" ", c));
            assertEquals("c", c[0]);
            assertTrue(c[1].matches("[0-9a-f]{64}"), c[1]);
            assertEquals(BinCairnAgentTest.proof(token(), "agent:" + callerNonce + ":" + c[1]), c[2]);
            assertFalse(String.join(" ", c).contains(token()));
            send(s.getOutputStream(), BinCairnAgentTest.proof(token(), "caller:" + callerNonce + ":" + c[1]),
                    dir.toString(), "", "", "", "2", "ls", "--help");
            List<String> answer = rest(s.getInputStream());
            assertEquals("x 0", answer.get(answer.size() - 1), answer.toString());
            assertTrue(answer.get(0).startsWith("o Usage: cairn ls"), answer.toString());
        }
        assertEquals(1, commandsRun());
    }

    @Test
    void aCallerWhoseProofIsWrongGetsOneErrorLineAndNothingRuns() throws Exception {
        String callerNonce = "34".repeat(32);
        List<List<String>> wrongProofs = new ArrayList<>();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            s.setSoTimeout(10_000);
            String[] c = challenge(s, callerNonce);
            // The agent's own proof sent back (a reflection), then the token itself in clear.
            send(s.getOutputStream(), c[2], dir.toString(), "", "", "", "1", "ls");
            wrongProofs.add(rest(s.getInputStream()));
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            s.setSoTimeout(10_000);
            challenge(s, callerNonce);
            send(s.getOutputStream(), token(), dir.toString(), "", "", "", "1", "ls");
            wrongProofs.add(rest(s.getInputStream()));
        }
        for (List<String> answer : wrongProofs) {
            assertEquals(2, answer.size(), answer.toString());
            assertTrue(answer.get(0).startsWith("e cairn: the agent could not verify that you hold its token"), answer.get(0));
            assertEquals("x 4", answer.get(1));
        }
        assertEquals(0, commandsRun(), log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theOldProtocolThatSentTheTokenInClearIsRefusedWithWhatToDo() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            s.setSoTimeout(10_000);
            send(s.getOutputStream(), "cairn-agent-1", token(), dir.toString(), "", "1", "ls");
            List<String> answer = rest(s.getInputStream());
            assertEquals(2, answer.size(), answer.toString());
            assertTrue(answer.get(0).startsWith("e cairn: this bin/cairn speaks the agent's old protocol"), answer.get(0));
            assertTrue(answer.get(0).contains("update it"), answer.get(0));
            assertEquals("x 4", answer.get(1));
        }
        assertEquals(0, commandsRun());
    }
}
