package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Enforces the module graph that docs/architecture.md draws ("Module dependencies"): which of
 * Cairn's own packages each module's main code may name, by a scan of its imports and fully
 * qualified names.
 */
class ModuleGraphTest {

    /** Each module's main sources, and the Cairn package roots they may use besides their own. */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "config", Set.of("dev.cairn.config"),
            "snapshot-engine", Set.of("dev.cairn.engine"),
            "protocol", Set.of("dev.cairn.protocol", "dev.cairn.engine", "dev.cairn.config"),
            "client", Set.of("dev.cairn.client", "dev.cairn.protocol", "dev.cairn.engine", "dev.cairn.config"),
            "server", Set.of("dev.cairn.server", "dev.cairn.protocol", "dev.cairn.engine", "dev.cairn.config"));

    /**
     * The client types a node may use: the client's public API. A node embeds a client (the HTTP
     * gateway and repair write through the same quorum logic), but never its internals or its CLI.
     */
    static final Set<String> CLIENT_API_FOR_NODES = Set.of(
            "dev.cairn.client.CairnClient",
            "dev.cairn.client.CairnAdmin",
            "dev.cairn.client.CairnException",
            "dev.cairn.client.PutResult",
            "dev.cairn.client.GetResult",
            "dev.cairn.client.ProgressListener",
            "dev.cairn.client.NodeChange",
            "dev.cairn.client.ClusterInfo",
            "dev.cairn.client.Member",
            "dev.cairn.client.Members",
            "dev.cairn.client.NodeStatus",
            "dev.cairn.client.GcReport",
            "dev.cairn.client.RepairMode",
            "dev.cairn.client.RepairReport",
            "dev.cairn.client.ScrubReport",
            "dev.cairn.client.ChunkPeers");

    private static final Pattern CAIRN_NAME = Pattern.compile("\\bdev\\.cairn\\.[a-z]+(?:\\.[a-z]+)*(?:\\.[A-Z]\\w*)?");

    @Test
    void eachModuleNamesOnlyThePackagesItMayDependOn() {
        List<String> violations = new ArrayList<>();
        ALLOWED.forEach((module, allowed) -> forEachMainSource(module, (file, name) -> {
            boolean ok = allowed.stream().anyMatch(root -> name.equals(root) || name.startsWith(root + "."))
                    || (module.equals("server") && CLIENT_API_FOR_NODES.contains(name));
            if (!ok) {
                violations.add(module + ": " + root().relativize(file) + " names " + name);
            }
        }));
        assertEquals(List.of(), violations, "arrows docs/architecture.md does not allow");
    }

    @Test
    void theEngineAndTheProtocolCoreKnowNoNetty() {
        List<String> violations = new ArrayList<>();
        try (Stream<Path> engine = Files.walk(mainSources("snapshot-engine"));
                Stream<Path> core = Files.list(mainSources("protocol").resolve("dev/cairn/protocol"))) {
            Stream.concat(engine, core).filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                if (read(f).contains("io.netty")) {
                    violations.add(root().relativize(f).toString());
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertEquals(List.of(), violations, "files that name Netty where the wire format must not depend on it");
    }

    @Test
    void theScanSeesEveryModule() {
        for (String module : ALLOWED.keySet()) {
            assertTrue(Files.isDirectory(mainSources(module)), "no main sources for " + module);
        }
    }

    private interface NameVisitor {
        void visit(Path file, String name);
    }

    private static void forEachMainSource(String module, NameVisitor visitor) {
        try (Stream<Path> files = Files.walk(mainSources(module))) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                String code = read(f).replaceFirst("(?m)^package [\\w.]+;", "");
                Matcher m = CAIRN_NAME.matcher(code);
                while (m.find()) {
                    visitor.visit(f, m.group());
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path mainSources(String module) {
        return root().resolve(module).resolve("src/main/java");
    }

    /** Surefire runs a module's tests in the module's folder; the project is its parent. */
    private static Path root() {
        return Path.of("").toAbsolutePath().getParent();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
