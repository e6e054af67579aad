package dev.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Capability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

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

    private static final String SCRIPT = "/usr/local/bin/criu-lazy-restore.sh";

    @Test
    void lazyRestoreFromTheStoreCarriesOn() throws Exception {
        ChaosEnv env = ChaosEnv.require();
        Path dir = env.out.resolve("criu-lazy-restore");
        Files.createDirectories(dir);
        try (ChaosCluster cluster = ChaosCluster.start(env, 3, dir.resolve("config"));
             GenericContainer<?> criu = criuContainer(env, cluster)) {
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
                copyOut(criu, "/lazy-logs/lazy-pages.log", dir.resolve("lazy-pages.log"));
                copyOut(criu, "/lazy-logs/restore.log", dir.resolve("restore.log"));
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

    private static void copyOut(GenericContainer<?> c, String from, Path to) {
        try {
            c.copyFileFromContainer(from, to.toString());
        } catch (Exception e) {
            // a log that was never written is not the failure being reported
        }
    }

    private static String step(GenericContainer<?> c, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = SCRIPT;
        System.arraycopy(args, 0, cmd, 1, args.length);
        Container.ExecResult r = c.execInContainer(cmd);
        assertEquals(0, r.getExitCode(), () -> String.join(" ", args) + " failed: " + r.getStdout() + r.getStderr());
        return r.getStdout();
    }

    /** As {@link CriuPageServerIT}'s container: init as PID 1 to reap the dumped counter, capabilities criu needs. */
    private static GenericContainer<?> criuContainer(ChaosEnv env, ChaosCluster cluster) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(ChaosEnv.IMAGE))
                .withNetwork(cluster.network())
                .withEnv("CAIRN_CLUSTER", cluster.endpoints())
                .withFileSystemBind(env.jdk.toString(), ChaosEnv.JDK_IN_CONTAINER, BindMode.READ_ONLY)
                .withFileSystemBind(env.root.resolve("client/target").toString(), ChaosEnv.CAIRN_IN_CONTAINER + "/client",
                        BindMode.READ_ONLY)
                .withCopyFileToContainer(MountableFile.forClasspathResource("criu-lazy-restore.sh", 0755), SCRIPT)
                .withCommand("sleep", "infinity")
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withInit(true)
                        .withCapAdd(Capability.ALL).withCapDrop(Capability.SYS_RESOURCE)
                        .withSecurityOpts(List.of("seccomp=unconfined", "apparmor=unconfined")));
        for (Path conf : env.jdkConfigDirs) {
            c.withFileSystemBind(conf.toString(), conf.toString(), BindMode.READ_ONLY);
        }
        return c;
    }
}
