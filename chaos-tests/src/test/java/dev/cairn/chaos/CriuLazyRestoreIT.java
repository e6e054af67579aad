package dev.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;

/**
 * A real criu restores lazily from the store: a counter dumped with {@code cairn criu dump}, its
 * files but its pages written by {@code cairn criu lazy-pages}, which then serves its pages to
 * {@code criu lazy-pages --page-server} while {@code criu restore --lazy-pages} runs it again;
 * the counter carries on from its dumped value. The directory's pages files hold only the pages
 * restore reads itself (not lazy); the rest are holes. The same image is then restored four times
 * at once (one server, four containers, so the restored PIDs do not collide), and once more with
 * the node every read asks first killed after the non-lazy files were written and before criu
 * fetched a lazy page.
 *
 * <p>Whether the kernel can restore lazily at all is asked first ({@code criu check --feature
 * uffd-noncoop}); when it cannot, the tests are skipped with criu's own words.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CriuLazyRestoreIT {

    private static final String SCRIPT = CriuContainer.scriptPath("criu-lazy-restore.sh");
    private static final String NAME = "criu/counter-lazy";
    private static final int RESTORES = 4;

    static Path dir;
    static ChaosCluster cluster;
    static GenericContainer<?> criu;
    static long atDump;

    @BeforeAll
    static void dumpACounter() throws Exception {
        ChaosEnv env = ChaosEnv.require();
        dir = env.out.resolve("criu-lazy-restore");
        Files.createDirectories(dir.resolve("shared"));
        cluster = ChaosCluster.start(env, 3, dir.resolve("config"));
        criu = shared(CriuContainer.create(env, cluster, "criu-lazy-restore.sh"));
        criu.start();
        Container.ExecResult probe = criu.execInContainer(SCRIPT, "check");
        if (probe.getExitCode() != 0) {
            String why = "CRIU lazy-restore test skipped: this kernel (" + System.getProperty("os.version")
                    + ") cannot restore lazily: " + (probe.getStdout() + probe.getStderr()).strip().replace('\n', ' ');
            System.out.println("chaos: " + why);
            Assumptions.abort(why);
        }
        step(criu, "start");
        Container.ExecResult dump = criu.execInContainer(SCRIPT, "dump", NAME);
        assertEquals(0, dump.getExitCode(), () -> "cairn criu dump failed: " + dump.getStdout() + dump.getStderr());
        atDump = Long.parseLong(dump.getStdout().strip());
    }

    @AfterAll
    static void stop() throws Exception {
        if (criu != null) {
            // files the containers wrote as root into the shared folder would outlive the build
            criu.execInContainer("sh", "-c", "pkill -f 'while :' ; rm -rf /shared/* ; true");
            criu.stop();
        }
        if (cluster != null) {
            cluster.writeLogs(dir);
            cluster.close();
        }
    }

    /** The container with a host folder at {@code /shared}, where the restores' images directories are. */
    private static GenericContainer<?> shared(GenericContainer<?> c) {
        return c.withFileSystemBind(dir.resolve("shared").toString(), "/shared", BindMode.READ_WRITE);
    }

    @Test
    @Order(1)
    void lazyRestoreFromTheStoreCarriesOn() throws Exception {
        long started = System.nanoTime();
        Container.ExecResult lazy = criu.execInContainer(SCRIPT, "lazy", NAME);
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
    }

    @Test
    @Order(2)
    void fourLazyRestoresOfOneImageAtOnceEachCarryOn() throws Exception {
        ChaosEnv env = ChaosEnv.require();
        step(criu, "serve", NAME, Integer.toString(RESTORES));
        String server = criu.getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next().getIpAddress();
        List<GenericContainer<?>> hosts = new ArrayList<>();
        try {
            for (int i = 0; i < RESTORES; i++) {
                hosts.add(shared(CriuContainer.create(env, cluster, "criu-lazy-restore.sh")));
            }
            hosts.parallelStream().forEach(GenericContainer::start);
            long started = System.nanoTime();
            List<CompletableFuture<Container.ExecResult>> runs = new ArrayList<>();
            for (int i = 0; i < RESTORES; i++) {
                GenericContainer<?> host = hosts.get(i);
                String number = Integer.toString(i + 1);
                runs.add(CompletableFuture.supplyAsync(() -> exec(host, SCRIPT, "restore-from", server, number)));
            }
            List<Long> counters = new ArrayList<>();
            for (int i = 0; i < RESTORES; i++) {
                Container.ExecResult r = runs.get(i).join();
                int n = i + 1;
                assertEquals(0, r.getExitCode(), () -> "lazy restore " + n + " of " + RESTORES + " failed: "
                        + r.getStdout() + r.getStderr());
                counters.add(Long.parseLong(r.getStdout().strip()));
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            Container.ExecResult served = criu.execInContainer(SCRIPT, "served");
            assertEquals(0, served.getExitCode(), () -> "cairn criu lazy-pages --restores " + RESTORES + " failed: "
                    + served.getStderr());
            System.out.println("chaos: " + RESTORES + " lazy restores at once in " + millis + " ms; counters at dump "
                    + atDump + ", after restore " + counters + "; " + served.getStderr().strip().replace('\n', ' '));
            for (long c : counters) {
                assertTrue(c > atDump, () -> "a restored counter did not carry on: dumped at " + atDump + ", then " + counters);
            }
        } finally {
            for (int i = 0; i < hosts.size(); i++) {
                CriuContainer.copyOut(criu, "/shared/logs-" + (i + 1) + "/lazy-pages.log", dir.resolve("lazy-pages-" + (i + 1) + ".log"));
                CriuContainer.copyOut(criu, "/shared/logs-" + (i + 1) + "/restore.log", dir.resolve("restore-" + (i + 1) + ".log"));
                hosts.get(i).stop();
            }
        }
    }

    @Test
    @Order(3)
    void aNodeKilledMidRestoreIsSurvived() throws Exception {
        // The non-lazy files are written and the server listens; no lazy page has been asked for.
        step(criu, "serve", NAME, "1");
        cluster.kill(0); // node-1: every read of this client asks it first (ChunkReader.firstAsked)
        long started = System.nanoTime();
        Container.ExecResult finish = criu.execInContainer(SCRIPT, "finish");
        long millis = (System.nanoTime() - started) / 1_000_000;
        CriuContainer.copyOut(criu, "/lazy-logs/lazy-pages.log", dir.resolve("lazy-pages-node-killed.log"));
        CriuContainer.copyOut(criu, "/lazy-logs/restore.log", dir.resolve("restore-node-killed.log"));
        assertEquals(0, finish.getExitCode(), () -> "the lazy restore with node-1 killed failed: " + finish.getStdout()
                + finish.getStderr());
        long afterRestore = Long.parseLong(finish.getStdout().strip());
        System.out.println("chaos: lazy restore with node-1 killed before the first lazy page: " + millis
                + " ms for lazy-pages, restore and 2 s of running; " + finish.getStderr().strip().replace('\n', ' ')
                + "; counter at dump " + atDump + ", after restore " + afterRestore);
        assertTrue(afterRestore > atDump,
                () -> "the restored counter did not carry on: dumped at " + atDump + ", then " + afterRestore);
    }

    private static Container.ExecResult exec(GenericContainer<?> c, String... command) {
        try {
            return c.execInContainer(command);
        } catch (Exception e) {
            throw new IllegalStateException(String.join(" ", command) + " could not be run: " + e.getMessage(), e);
        }
    }

    private static String step(GenericContainer<?> c, String... args) throws Exception {
        return CriuContainer.step(c, SCRIPT, args);
    }
}
