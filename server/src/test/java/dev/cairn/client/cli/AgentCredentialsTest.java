package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.config.ClientConfig;
import dev.cairn.it.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command handed to the agent runs with its caller's access token ({@code CAIRN_TOKEN_FILE},
 * relative to the caller's directory), not the agent's: the real {@code bin/cairn}, a real agent
 * started without any token, and a real cluster with {@code auth.required: true}.
 */
class AgentCredentialsTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static Agent agent;
    static Path work;
    static final ByteArrayOutputStream agentLog = new ByteArrayOutputStream();

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.startWithAuth(1, dir.resolve("cluster"));
        work = Files.createDirectories(dir.resolve("work"));
        try (CairnAdmin admin = CairnAdmin.connect(ClientConfig.parse(cluster.endpoints()).withToken(cluster.nodeToken()))) {
            Files.writeString(work.resolve("team-a.token"), admin.createToken("team-a", "write", List.of("team-a/")).token());
            Files.writeString(work.resolve("team-b.token"), admin.createToken("team-b", "write", List.of("team-b/")).token());
        }
        Files.writeString(Files.createDirectories(work.resolve("a")).resolve("f"), "checkpoint of team a");
        agent = Agent.start(0, dir.resolve("state/agent"), new PrintStream(agentLog, true, StandardCharsets.UTF_8));
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

    /** bin/cairn with the agent, run by a caller whose CAIRN_TOKEN_FILE is {@code tokenFile} (unset when null). */
    static AgentTest.Run cairn(String tokenFile, String... args) throws Exception {
        return cairnWithCa(tokenFile, null, args);
    }

    static AgentTest.Run cairnWithCa(String tokenFile, String tlsCa, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", AgentTest.binCairn().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
        Map<String, String> env = pb.environment();
        env.put("CAIRN_AGENT", agent.stateFile().toString());
        env.put("CAIRN_CLUSTER", cluster.endpoints());
        env.remove("CAIRN_TOKEN_FILE");
        env.remove("CAIRN_TLS_CA");
        if (tokenFile != null) {
            env.put("CAIRN_TOKEN_FILE", tokenFile);
        }
        if (tlsCa != null) {
            env.put("CAIRN_TLS_CA", tlsCa);
        }
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String out = readAll(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "bin/cairn " + String.join(" ", args) + " did not end");
        return new AgentTest.Run(p.exitValue(), out, err.get());
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void eachCommandRunsWithItsCallersTokenNotTheAgents() throws Exception {
        AgentTest.Run put = cairn("team-a.token", "put", "team-a/ckpt-1", "a");
        assertEquals(0, put.code(), put.out() + put.err());
        assertTrue(put.out().startsWith("stored team-a/ckpt-1: "), put.out());

        AgentTest.Run byA = cairn(work.resolve("team-a.token").toString(), "stat", "team-a/ckpt-1");
        assertEquals(0, byA.code(), byA.err());

        // The same cluster through the same agent, with another tenant's token: its own client, its own rights.
        AgentTest.Run byB = cairn("team-b.token", "stat", "team-a/ckpt-1");
        assertEquals(4, byB.code(), byB.out() + byB.err());
        assertTrue(byB.err().startsWith("cairn: "), byB.err());

        AgentTest.Run byNobody = cairn(null, "stat", "team-a/ckpt-1");
        assertEquals(4, byNobody.code(), byNobody.out() + byNobody.err());
        assertTrue(byNobody.err().contains("requires an access token"), byNobody.err());
    }

    @Test
    void theCallersCaTravelsToo() throws Exception {
        // The agent has no CA of its own; the caller's names a file that is not there, and the command says so.
        AgentTest.Run r = cairnWithCa("team-a.token", "no-such-ca.pem", "stat", "team-a/ckpt-1");
        assertTrue(r.code() != 0, r.out() + r.err());
        assertTrue(r.err().startsWith("cairn: CAIRN_TLS_CA names " + work.resolve("no-such-ca.pem") + ", which is not a file"),
                r.err());
    }
}
