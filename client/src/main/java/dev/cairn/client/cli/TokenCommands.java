package dev.cairn.client.cli;

import dev.cairn.client.AccessToken;
import dev.cairn.client.CairnAdmin;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn admin token …}: creating, listing and revoking access tokens (docs/security.md). */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Access tokens: create (prints the secret once), ls (never a secret), revoke.",
        subcommands = {TokenCommands.Create.class, TokenCommands.Ls.class, TokenCommands.Revoke.class},
        footer = {"", "Examples:", "  cairn admin token create --tenant team-a --role write --prefix team-a/",
            "  cairn admin token ls", "  cairn admin token revoke 3f2a9c0d1e4b5a69"})
final class TokenCommands implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Creates a token and prints it once (id.secret): the cluster keeps only the SHA-256 of the secret, "
                    + "so it cannot be shown again. Keep it in a file only its user can read and point CAIRN_TOKEN_FILE at it."},
            footer = {"", "Example:", "  cairn admin token create --tenant team-a --role read --prefix team-a/ > team-a.token"})
    static final class Create implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Option(names = "--tenant", required = true, paramLabel = "T", description = "the tenant the token acts for")
        String tenant;

        @Option(names = "--role", required = true, paramLabel = "ROLE", description = "read, write or admin")
        String role;

        @Option(names = "--prefix", paramLabel = "P", description = "a name prefix the token may touch; repeat for more "
                + "(none: every name)")
        List<String> prefixes = new ArrayList<>();

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                CairnAdmin.CreatedToken created = cairn.createToken(tenant, role, prefixes);
                System.out.println(created.token());
                new AdminOutput(shared.json).field("token", created.token()).fields(describe(created.info())).finish();
                return 0;
            }
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "Lists the tokens: id, tenant, role, prefixes, created. Never a secret.",
            footer = {"", "Example:", "  cairn admin token ls --json | tail -1"})
    static final class Ls implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                List<AccessToken> tokens = cairn.tokens();
                System.out.printf("%-16s  %-16s  %-5s  %-24s  %s%n", "ID", "TENANT", "ROLE", "CREATED", "PREFIXES");
                List<Map<String, Object>> json = new ArrayList<>();
                for (AccessToken t : tokens) {
                    System.out.printf("%-16s  %-16s  %-5s  %-24s  %s%n", t.id(), t.tenant(), t.role(), t.created(),
                            t.prefixes().isEmpty() ? "(every name)" : String.join(",", t.prefixes()));
                    json.add(describe(t));
                }
                new AdminOutput(shared.json).field("tokens", json).finish();
                return 0;
            }
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revokes a token: every node refuses it as soon as it has applied the revocation, without a restart.",
            footer = {"", "Example:", "  cairn admin token revoke 3f2a9c0d1e4b5a69"})
    static final class Revoke implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Parameters(index = "0", paramLabel = "ID", description = "the token's id (cairn admin token ls)")
        String id;

        @Override
        public Integer call() {
            try (CairnAdmin cairn = shared.admin()) {
                cairn.revokeToken(id);
                System.out.println("revoked " + id);
                new AdminOutput(shared.json).field("revoked", id).finish();
                return 0;
            }
        }
    }

    private static Map<String, Object> describe(AccessToken t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("tenant", t.tenant());
        m.put("role", t.role());
        m.put("prefixes", t.prefixes());
        m.put("created", t.created().toString());
        return m;
    }
}
