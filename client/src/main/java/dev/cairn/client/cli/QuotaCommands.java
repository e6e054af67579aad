package dev.cairn.client.cli;

import dev.cairn.config.ByteSize;
import dev.cairn.config.ConfigException;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnException;
import dev.cairn.client.Quota;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn admin quota …}: setting, listing and removing the byte quota of a name prefix (docs/security.md). */
@Command(name = "quota", mixinStandardHelpOptions = true,
        description = "Byte quotas of name prefixes (tenants): set, ls, rm. A commit that would take a prefix over "
                + "its quota is refused (exit 4).",
        subcommands = {QuotaCommands.Set.class, QuotaCommands.Ls.class, QuotaCommands.Rm.class},
        footer = {"", "Examples:", "  cairn admin quota set team-a/ --max-bytes 500G", "  cairn admin quota ls",
            "  cairn admin quota rm team-a/"})
final class QuotaCommands implements Runnable {

    /** A size: plain bytes, or a number with K, M, G or T (powers of 1024; KiB, KB and k are the same). */
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Sets the most logical bytes the images under PREFIX may hold together (whoever committed "
                    + "them). A new quota counts the images already there; setting it below that refuses new commits "
                    + "until images are removed."},
            footer = {"", "Example:", "  cairn admin quota set team-a/ --max-bytes 2T"})
    static final class Set implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Parameters(index = "0", paramLabel = "PREFIX", description = "a name prefix ending in /, as a token's")
        String prefix;

        @Option(names = "--max-bytes", required = true, paramLabel = "B",
                description = "bytes, or with K, M, G or T (powers of 1024): 500G")
        String maxBytes;

        @Override
        public Integer call() {
            long max = parseSize(maxBytes);
            try (CairnAdmin cairn = shared.admin()) {
                Quota q = cairn.setQuota(prefix, max);
                System.out.println("quota " + q.prefix() + ": " + describeLine(q));
                new AdminOutput(shared.json).fields(describe(q)).finish();
                return 0;
            }
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "Lists the quotas: prefix, bytes used, maximum, percent used.",
            footer = {"", "Example:", "  cairn admin quota ls --json | tail -1"})
    static final class Ls implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                List<Quota> quotas = cairn.quotas();
                System.out.printf("%-32s  %14s  %14s  %6s%n", "PREFIX", "USED", "MAX", "USED%");
                List<Map<String, Object>> json = new ArrayList<>();
                for (Quota q : quotas) {
                    System.out.printf(Locale.ROOT, "%-32s  %14s  %14s  %5.1f%%%n", q.prefix(), Output.bytes(q.usedBytes()),
                            Output.bytes(q.maxBytes()), q.percentUsed());
                    json.add(describe(q));
                }
                new AdminOutput(shared.json).field("quotas", json).finish();
                return 0;
            }
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = "Removes the quota of PREFIX: commits under it are no longer limited.",
            footer = {"", "Example:", "  cairn admin quota rm team-a/"})
    static final class Rm implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Parameters(index = "0", paramLabel = "PREFIX", description = "the quota's prefix (cairn admin quota ls)")
        String prefix;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                cairn.removeQuota(prefix);
                System.out.println("removed the quota of " + prefix);
                new AdminOutput(shared.json).field("removed", prefix).finish();
                return 0;
            }
        }
    }

    /** {@code --max-bytes} as {@link ByteSize} reads it, refused as a CLI error. */
    static long parseSize(String text) {
        try {
            return ByteSize.parse("--max-bytes", text);
        } catch (ConfigException e) {
            throw new CairnException(e.getMessage());
        }
    }

    private static String describeLine(Quota q) {
        return String.format(Locale.ROOT, "%s of %s used (%.1f%%)", Output.bytes(q.usedBytes()), Output.bytes(q.maxBytes()),
                q.percentUsed());
    }

    private static Map<String, Object> describe(Quota q) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prefix", q.prefix());
        m.put("usedBytes", q.usedBytes());
        m.put("maxBytes", q.maxBytes());
        m.put("percentUsed", Math.round(q.percentUsed() * 10) / 10.0);
        return m;
    }
}
