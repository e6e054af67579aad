package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;
import org.junit.jupiter.api.Test;

/**
 * docs/cli.md is generated from the commands' own help, so the reference cannot drift from the
 * code. When a command changes, regenerate it with
 * {@code ./mvnw -pl client test -Dtest=CliReferenceTest -Dcairn.updateDocs=true}.
 */
class CliReferenceTest {

    static final Path REFERENCE = Path.of("..", "docs", "cli.md");

    @Test
    void theCliReferenceMatchesTheCommands() throws IOException {
        String generated = generate();
        if (Boolean.getBoolean("cairn.updateDocs")) {
            Files.writeString(REFERENCE, generated, StandardCharsets.UTF_8);
        }
        assertTrue(Files.exists(REFERENCE), "docs/cli.md is missing; generate it with -Dcairn.updateDocs=true");
        assertEquals(generated, Files.readString(REFERENCE, StandardCharsets.UTF_8),
                "docs/cli.md is out of date; regenerate it with "
                        + "./mvnw -pl client test -Dtest=CliReferenceTest -Dcairn.updateDocs=true");
    }

    @Test
    void everyCommandHasAnExampleInItsHelp() {
        assertExample(CairnCli.commandLine());
    }

    private static void assertExample(CommandLine command) {
        if (command.getSubcommands().isEmpty() || command.getCommandName().equals("dev")) {
            String usage = command.getUsageMessage(Ansi.OFF);
            assertTrue(usage.contains("Example"), command.getCommandSpec().qualifiedName() + " --help has no example");
        }
        command.getSubcommands().values().forEach(CliReferenceTest::assertExample);
    }

    static String generate() {
        StringBuilder out = new StringBuilder();
        out.append("# `cairn` command reference\n\n");
        out.append("Generated from the commands' `--help` by `CliReferenceTest`; do not edit by hand.\n");
        out.append("`cairn server --config FILE` runs a node (see `configuration.md`).\n");
        append(out, CairnCli.commandLine());
        return out.toString();
    }

    private static void append(StringBuilder out, CommandLine command) {
        out.append("\n## ").append(command.getCommandSpec().qualifiedName()).append("\n\n```\n");
        out.append(command.getUsageMessage(Ansi.OFF).stripTrailing()).append("\n```\n");
        command.getSubcommands().values().forEach(sub -> append(out, sub));
    }
}
