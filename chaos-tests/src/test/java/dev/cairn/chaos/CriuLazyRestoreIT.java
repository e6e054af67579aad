package dev.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;

/**
 * A real criu restores lazily from the store: a counter dumped with {@code cairn criu dump}, its
 * files but its pages written by {@code cairn criu lazy-pages}, which then serves its pages to
 * {@code criu lazy-pages --page-server} while {@code criu restore --lazy-pages} runs it again;
 * the counter carries on from its dumped value. The
 * directory's pages files hold only the pages restore reads itself (not lazy); the rest are holes.
 *
 * <p>Whether the kernel can restore lazily at all is asked first ({@code criu check --feature
 * uffd-noncoop}); when it cannot, the test is skipped with criu's own words.
 */
class CriuLazyRestoreIT {

    private static final String SCRIPT = CriuContainer.scriptPath("criu-lazy-restore.sh");

    @Test
    void lazyRestoreFromTheStoreCarriesOn() throws Exception {
        ChaosEnv env = ChaosEnv.require();
        Path dir = env.out.resolve("criu-lazy-restore");
        Files.createDirectories(dir);
        try (ChaosCluster cluster = ChaosCluster.start(env, 3, dir.resolve("config"));
             GenericContainer<?> criu = CriuContainer.create(env, cluster, "criu-lazy-restore.sh")) {
            criu.start();
            try {
                Container.ExecResult probe = criu.execInContainer(SCRIPT, "check");
                if (probe.getExitCode() != 0) {
                    String why = "CRIU lazy-restore test skipped: this kernel (" + System.getProperty("os.version")
                            + ") cannot restore lazily: " + (probe.getStdout() + probe.getStderr()).strip().replace('\n', ' ');
                    System.out.println("chaos: " + why);
                    Assumptions.abort(why);
                }
                step(criu, "start");
                String name = "criu/counter-lazy";
                Container.ExecResult dump = criu.execInContainer(SCRIPT, "dump", name);
                assertEquals(0, dump.getExitCode(), () -> "cairn criu dump failed: " + dump.getStdout() + dump.getStderr());
                long atDump = Long.parseLong(dump.getStdout().strip());

                long started = System.nanoTime();
                Container.ExecResult lazy = criu.execInContainer(SCRIPT, "lazy", name);
                long lazyMillis = (System.nanoTime() - started) / 1_000_000;
                CriuContainer.copyOut(criu, "/lazy-logs/lazy-pages.log", dir.resolve("lazy-pages.log"));
                CriuContainer.copyOut(criu, "/lazy-logs/restore.log", dir.resolve("restore.log"));
                assertEquals(0, lazy.getExitCode(), () -> "the lazy restore failed: " + lazy.getStdout() + lazy.getStderr());
                long afterRestore = Long.parseLong(lazy.getStdout().strip());

                List<String> written = Arrays.stream(step(criu, "lazy-dir").split("\n")).map(String::strip)
                        .filter(s -> !s.isEmpty()).toList();
                assertTrue(written.contains("inventory.img") && written.stream().anyMatch(f -> f.startsWith("pagemap-")),
                        () -> "the lazy images directory lacks the inventory or the pagemaps: " + written);
                System.out.println("chaos: criu lazy restore: " + lazyMillis + " ms for lazy-pages and restore; "
                        + lazy.getStderr().strip().replace('\n', ' ') + "; directory " + written
                        + "; counter at dump " + atDump + ", after restore " + afterRestore);
                // A fresh process would start from 1 (the script wrote 0 before the restore).
                assertTrue(afterRestore > atDump,
                        () -> "the restored counter did not carry on: dumped at " + atDump + ", then " + afterRestore);
            } finally {
                criu.execInContainer("sh", "-c", "pkill -f 'while :' ; true");
                cluster.writeLogs(dir);
            }
        }
    }

    private static String step(GenericContainer<?> c, String... args) throws Exception {
        return CriuContainer.step(c, SCRIPT, args);
    }
}
