package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.config.ClientConfig;
import dev.cairn.engine.Clock;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * What one run of a command works with: where it prints, what its relative paths are relative
 * to, the cluster, token file and CA its environment names ({@code CAIRN_CLUSTER},
 * {@code CAIRN_TOKEN_FILE}, {@code CAIRN_TLS_CA}; null when unset), whether it may draw progress, where its client comes
 * from, how it starts child processes, and its clock (progress rates, start-up deadlines). A CLI process runs one command with the process's own ({@link #ofProcess}); the agent
 * ({@link Agent}) runs each request with the caller's, on the thread that serves it.
 */
record Invocation(PrintStream out, PrintStream err, Path workingDir, String clusterEnv, String tokenFileEnv,
                  String tlsCaEnv, boolean progress, Clients clients, Clock clock, Children children) {

    /** How a command starts child processes (criu, runc), and what is closed if its caller goes away. */
    interface Children {
        dev.cairn.client.criu.CriuDump.Launcher launcher();

        /** Closes {@code resource} when the caller goes away; in a CLI process, the process's end does that. */
        void closeWhenCallerLeaves(AutoCloseable resource);
    }

    /** Children in this process's directory and environment; they end with it. */
    static final Children OWN_PROCESS = new Children() {
        @Override
        public dev.cairn.client.criu.CriuDump.Launcher launcher() {
            return dev.cairn.client.criu.CriuDump.HERE;
        }

        @Override
        public void closeWhenCallerLeaves(AutoCloseable resource) {
            // the CLI process's end closes everything
        }
    };

    /** Where commands get a client, and give it back when they are done with it. */
    interface Clients {
        CairnClient open(ClientConfig config);

        void release(CairnClient client);
    }

    /** A client per command, closed when it ends: the CLI process exits right after anyway. */
    static final Clients CONNECT_PER_COMMAND = new Clients() {
        @Override
        public CairnClient open(ClientConfig config) {
            return CairnClient.connect(config);
        }

        @Override
        public void release(CairnClient client) {
            client.close();
        }
    };

    private static final ThreadLocal<Invocation> CURRENT = ThreadLocal.withInitial(Invocation::ofProcess);

    static Invocation ofProcess() {
        return new Invocation(System.out, System.err, Path.of("").toAbsolutePath(), System.getenv("CAIRN_CLUSTER"),
                System.getenv("CAIRN_TOKEN_FILE"), System.getenv(dev.cairn.config.ClientConfig.TLS_CA_ENV),
                Output.stderrIsTerminal(), CONNECT_PER_COMMAND, Clock.SYSTEM, OWN_PROCESS);
    }

    /** The invocation the calling thread runs. */
    static Invocation current() {
        return CURRENT.get();
    }

    /** Runs {@code body} as this invocation on the calling thread. */
    int runAs(java.util.function.IntSupplier body) {
        Invocation before = CURRENT.get();
        CURRENT.set(this);
        try {
            return body.getAsInt();
        } finally {
            CURRENT.set(before);
        }
    }

    /** A path argument as the caller meant it: relative ones from the caller's working directory. */
    Path path(String argument) {
        return workingDir.resolve(argument);
    }
}
