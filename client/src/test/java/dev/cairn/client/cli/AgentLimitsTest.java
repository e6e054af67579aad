package dev.cairn.client.cli;

import static dev.cairn.client.cli.AgentHandshakeTest.challenge;
import static dev.cairn.client.cli.AgentHandshakeTest.rest;
import static dev.cairn.client.cli.AgentHandshakeTest.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections that have not proved they come from the agent's owner cannot starve it: each gets a
 * deadline for its whole request, and only so many are read at once. A real agent on loopback.
 */
class AgentLimitsTest {

    @TempDir
    Path dir;

    Agent agent;
    final ByteArrayOutputStream log = new ByteArrayOutputStream();
    final List<Socket> sockets = new ArrayList<>();

    void start(AgentLimits limits) throws IOException {
        agent = Agent.start(0, dir.resolve("agent"), new PrintStream(log, true, StandardCharsets.UTF_8), limits);
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port());
        sockets.add(s);
        return s;
    }

    /** Whether the agent has closed {@code s}: its end reads as ended (or reset) within {@code waitMs}. */
    static boolean closedByAgent(Socket s, int waitMs) throws IOException {
        s.setSoTimeout(waitMs);
        try {
            while (s.getInputStream().read() >= 0) {
                // the agent may have written an error line before closing
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    @Test
    void criuCommandsAtOnceAreBoundedAndDefaultToFour() {
        assertEquals(4, AgentLimits.DEFAULT.maxCriuCommands());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new AgentLimits(Duration.ofSeconds(10), 64, 0));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new AgentLimits(Duration.ofSeconds(10), 64, AgentLimits.MAX_CRIU_COMMANDS + 1));
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAtTheDeadline() throws Exception {
        start(new AgentLimits(Duration.ofMillis(300), 64));
        Socket silent = connect();
        long startNs = System.nanoTime();
        assertTrue(closedByAgent(silent, 5_000), "a silent connection is still open after 5 s");
        assertTrue(System.nanoTime() - startNs >= Duration.ofMillis(250).toNanos(), "closed before its deadline");
    }

    @Test
    void aConnectionThatTricklesItsRequestIsClosedAtTheDeadlineAllTheSame() throws Exception {
        start(new AgentLimits(Duration.ofMillis(500), 64));
        Socket slow = connect();
        slow.setSoTimeout(100);
        byte[] tag = "cairn-agent-2".getBytes(StandardCharsets.US_ASCII);
        long startNs = System.nanoTime();
        boolean closed = false;
        // A byte every 100 ms: each read of the agent's gets one well within any per-read timeout.
        for (int i = 0; i < 100 && !closed; i++) {
            try {
                slow.getOutputStream().write(tag[i % tag.length]);
                closed = slow.getInputStream().read() < 0;
            } catch (SocketTimeoutException e) {
                // nothing from the agent yet: it is still reading
            } catch (java.net.SocketException e) {
                closed = true;
            }
        }
        assertTrue(closed, "a connection sending a byte every 100 ms was still open after 10 s");
        assertTrue(System.nanoTime() - startNs < Duration.ofSeconds(5).toNanos(), "not closed near its 0.5 s deadline");
    }

    @Test
    void whileManySilentConnectionsHangARealCommandStillRuns() throws Exception {
        start(new AgentLimits(Duration.ofSeconds(60), 64)); // the silent ones outlive the test
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i < 72; i++) {
            silent.add(connect());
        }
        String token = Files.readString(agent.stateFile()).strip().split(" ")[1];
        String callerNonce = "77".repeat(32);
        Socket caller = connect();
        caller.setSoTimeout(10_000);
        String[] c = challenge(caller, callerNonce);
        send(caller.getOutputStream(), BinCairnAgentTest.proof(token, "caller:" + callerNonce + ":" + c[1]),
                dir.toString(), "", "", "", "2", "ls", "--help");
        List<String> answer = rest(caller.getInputStream());
        assertEquals("x 0", answer.get(answer.size() - 1), answer.toString());

        int closed = 0;
        for (Socket s : silent) {
            closed += closedByAgent(s, 50) ? 1 : 0;
        }
        assertTrue(closed >= 72 + 1 - 64, "at most 64 connections wait for their request at once, but only " + closed
                + " of 72 silent ones were closed");
        assertTrue(closed < 72, "the newest silent connections are kept until their deadline");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("cairn agent: 64 connections are waiting for their request; "
                + "closing the oldest as new ones arrive"), log.toString(StandardCharsets.UTF_8));
    }
}
