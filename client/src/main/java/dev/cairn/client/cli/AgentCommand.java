package dev.cairn.client.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cairn agent}: runs the resident client of this host in the foreground. */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Runs a resident client for this host in the foreground. With CAIRN_AGENT set to its state file, "
                + "bin/cairn hands put, get, ls, stat, rm and criu to it instead of starting a JVM per command: a checkpoint "
                + "agent that calls cairn once per checkpoint then pays no JVM start and no cold compiler per checkpoint.",
            "",
            "It prints 'export CAIRN_AGENT=FILE', then 'ready'. It listens on loopback only and runs a command only for a "
                + "caller that proves it can read FILE (mode 0600), with the agent's own file rights; it proves the same "
                + "to the caller first, and neither sends the token. At most 64 connections wait for their request at "
                + "once (a new one closes the oldest). Commands with - (stdin or "
                + "stdout) always run in their own JVM. criu commands run at most 4 at once (--max-criu), on turns of their own; the "
                + "program they start (criu, runc) runs with the agent's rights (start the agent as the user who runs "
                + "criu), in the caller's directory, with the caller's PATH and CAIRN_* variables. Each command gets a line on stderr: what ran, in which directory, "
                + "its exit code and time. SIGTERM or Ctrl-C lets running commands end and removes FILE."},
        footer = {"", "Example:", "  cairn agent --state ~/.cairn/agent &     # or under the host's service manager",
            "  export CAIRN_AGENT=~/.cairn/agent", "  cairn put job-7/ckpt-1 /var/lib/criu/dump-1   # runs in the agent"})
final class AgentCommand implements Callable<Integer> {

    @Option(names = "--state", paramLabel = "FILE",
            description = "where to write the port and token (default: $XDG_RUNTIME_DIR/cairn-agent, or ~/.cairn/agent)")
    Path state;

    @Option(names = "--port", paramLabel = "P", defaultValue = "0",
            description = "loopback port to listen on (default: a free one)")
    int port;

    @Option(names = "--request-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "a connection that has not completed its handshake and request within this is closed "
                    + "(default: ${DEFAULT-VALUE}; bin/cairn needs milliseconds)")
    int requestTimeoutSeconds;

    @Option(names = "--max-criu", paramLabel = "N", defaultValue = "4",
            description = "cairn criu commands run at once, on turns of their own (a lazy-pages serves for as long as "
                    + "its restore runs); one more is refused (default: ${DEFAULT-VALUE}, at most 64)")
    int maxCriu;

    @Override
    public Integer call() throws Exception {
        if (requestTimeoutSeconds < 1) {
            throw new dev.cairn.config.ConfigException("--request-timeout must be at least 1 second, got " + requestTimeoutSeconds);
        }
        Path file = (state != null ? state : defaultState()).toAbsolutePath();
        if (maxCriu < 1 || maxCriu > AgentLimits.MAX_CRIU_COMMANDS) {
            throw new dev.cairn.config.ConfigException("--max-criu must be 1 to " + AgentLimits.MAX_CRIU_COMMANDS
                    + ", got " + maxCriu);
        }
        AgentLimits limits = new AgentLimits(java.time.Duration.ofSeconds(requestTimeoutSeconds),
                AgentLimits.DEFAULT.maxWaitingConnections(), maxCriu);
        Agent agent = Agent.start(port, file, System.err, limits);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            stopped.countDown();
        }, "cairn-agent-stop"));
        System.out.println("export CAIRN_AGENT=" + file);
        System.out.println("ready");
        System.out.flush();
        stopped.await();
        return 0;
    }

    static Path defaultState() {
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            return Path.of(runtime, "cairn-agent");
        }
        return Path.of(System.getProperty("user.home"), ".cairn", "agent");
    }
}
