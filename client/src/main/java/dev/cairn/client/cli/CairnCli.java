package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.ConfigException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code cairn} command line. A thin layer over {@link CairnClient}. */
@Command(name = "cairn", mixinStandardHelpOptions = true, version = "cairn 0.1.0",
        description = "Cairn: a replicated, deduplicating store for checkpoint images.",
        footer = {"", "Also: cairn server --config FILE   runs one node in the foreground.", "",
            "The cluster is --cluster host:port,... or $CAIRN_CLUSTER. Start one on this machine with:",
            "  eval \"$(cairn dev | grep --line-buffered export)\"   (or run cairn dev in its own terminal)"})
public final class CairnCli implements Runnable {

    /**
     * The subcommands by name, in the order help lists them. Registered programmatically so a
     * run builds only the one it executes: picocli's model of every command costs a noticeable
     * part of a CLI start, and checkpoint agents start the CLI once per checkpoint.
     */
    private static final Map<String, Class<?>> SUBCOMMANDS = subcommands();

    private static Map<String, Class<?>> subcommands() {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        m.put("dev", DevCommand.class);
        m.put("put", ImageCommands.Put.class);
        m.put("get", GetCommand.class);
        m.put("ls", ImageCommands.Ls.class);
        m.put("stat", ImageCommands.Stat.class);
        m.put("rm", ImageCommands.Rm.class);
        m.put("admin", AdminCommands.class);
        m.put("estimate", EstimateCommand.class);
        m.put("agent", AgentCommand.class);
        m.put("criu", CriuCommand.class);
        return m;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The whole command tree (help, the generated reference). */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new CairnCli());
        SUBCOMMANDS.values().forEach(cli::addSubcommand);
        return cli;
    }

    /** The tree needed to run {@code args}: only the named subcommand when the first argument names one. */
    private static CommandLine commandLineFor(String[] args) {
        Class<?> only = args.length > 0 ? SUBCOMMANDS.get(args[0]) : null;
        if (only == null) {
            return commandLine();
        }
        CommandLine cli = new CommandLine(new CairnCli());
        cli.addSubcommand(only);
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static boolean verbose(String[] args) {
        for (String a : args) {
            if (a.equals("--verbose")) {
                return true;
            }
        }
        return false;
    }

    public static int run(String[] args) {
        return run(args, Invocation.ofProcess());
    }

    /** Runs {@code args} as {@code invocation}: its streams, working directory and clients. */
    static int run(String[] args, Invocation invocation) {
        return invocation.runAs(() -> execute(args, invocation));
    }

    private static int execute(String[] args, Invocation invocation) {
        CommandLine cli = commandLineFor(args);
        cli.setOut(new PrintWriter(invocation.out(), true));
        cli.setErr(new PrintWriter(invocation.err(), true));
        boolean verbose = verbose(args);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println("cairn: " + message(e));
            if (verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            return exitCode(e);
        });
        return cli.execute(args);
    }

    static String message(Throwable e) {
        if (e instanceof CairnException || e instanceof ConfigException) {
            return e.getMessage();
        }
        // Not one of ours: its message may still help, its class name would not.
        String m = e.getMessage();
        return (m == null || m.isBlank() ? "an unexpected error" : m) + " (run with --verbose for details)";
    }

    /**
     * 1 for failures; 2 is picocli's code for usage errors; 3 for a missing image; 4 not
     * authenticated or not allowed, a commit over a byte quota included (CLI.md: "not allowed").
     */
    static int exitCode(Throwable e) {
        if (e instanceof CairnException.ImageNotFound) {
            return 3;
        }
        if (e instanceof CairnException.NotAuthenticated || e instanceof CairnException.NotAllowed
                || e instanceof CairnException.QuotaExceeded) {
            return 4;
        }
        return 1;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }
}
