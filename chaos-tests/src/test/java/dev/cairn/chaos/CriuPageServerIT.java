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
 * A real criu dumps through Cairn's page server: {@code cairn criu dump} runs criu with its pages
 * streamed into a 3-node cluster, nothing of the pages lands on the container's disk, and a plain
 * {@code cairn get} and {@code criu restore} bring back a counter that carries on from its value.
 * Then the same with {@code cairn criu page-server} around a criu started with its own arguments,
 * as runc would start it.
 *
 * <p>Whether criu can dump on this kernel at all is asked first with a plain local dump; when it
 * cannot, the test is skipped with criu's own words, as {@link CriuRoundTripIT} is. A failure of
 * the page-server dump after that is Cairn's, and fails the test.
 */
class CriuPageServerIT {

    private static final String SCRIPT = CriuContainer.scriptPath("criu-page-server.sh");

    @Test
    void dumpThroughPageServerRestoresAndCarriesOn() throws Exception {
        ChaosEnv env = ChaosEnv.require();
        Path dir = env.out.resolve("criu-page-server");
        Files.createDirectories(dir);
        try (ChaosCluster cluster = ChaosCluster.start(env, 3, dir.resolve("config"));
             GenericContainer<?> criu = CriuContainer.create(env, cluster, "criu-page-server.sh")) {
            criu.start();
            try {
                step(criu, "start");
                Container.ExecResult probe = criu.execInContainer(SCRIPT, "local-dump");
                if (probe.getExitCode() != 0) {
                    String why = "CRIU page-server test skipped: criu dump does not work in a container on this kernel ("
                            + System.getProperty("os.version") + "): " + probe.getStderr().strip().replace('\n', ' ');
                    System.out.println("chaos: " + why);
                    Assumptions.abort(why);
                }
                String localPages = probe.getStdout().strip();

                round(criu, dir, "dump", "criu/counter-page-server", localPages);
                round(criu, dir, "page-server", "criu/counter-page-server-runc-style", localPages);
            } finally {
                CriuContainer.copyOut(criu, "/restore/restore.log", dir.resolve("last-restore.log"));
                criu.execInContainer("sh", "-c", "pkill -f 'while :' ; true");
                cluster.writeLogs(dir);
            }
        }
    }

    /**
     * One counter dumped through Cairn ({@code step}: {@code dump} runs cairn criu dump, {@code
     * page-server} runs cairn criu page-server around criu), got back and restored.
     */
    private static void round(GenericContainer<?> criu, Path dir, String step, String name, String localPages)
            throws Exception {
        step(criu, "start");
        long started = System.nanoTime();
        Container.ExecResult dump = criu.execInContainer(SCRIPT, step, name);
        long dumpMillis = (System.nanoTime() - started) / 1_000_000;
        CriuContainer.copyOut(criu, "/counter/dump.log", dir.resolve(step + "-dump.log"));
        assertEquals(0, dump.getExitCode(), () -> "cairn criu " + step + " failed: " + dump.getStdout() + dump.getStderr());
        long atDump = Long.parseLong(dump.getStdout().strip());

        List<String> left = Arrays.stream(step(criu, "images-dir").split("\n")).map(String::strip)
                .filter(s -> !s.isEmpty()).toList();
        assertTrue(left.contains("inventory.img"), () -> "criu's -D directory lacks its inventory: " + left);
        assertTrue(left.stream().noneMatch(f -> f.startsWith("pages-") || f.startsWith("pagemap-")),
                () -> "pages or pagemaps landed on the container's disk: " + left);

        String got = step(criu, "get", name);
        long afterRestore = Long.parseLong(step(criu, "restore").strip());
        CriuContainer.copyOut(criu, "/restore/restore.log", dir.resolve(step + "-restore.log"));
        System.out.println("chaos: criu " + step + ": local dump " + localPages + " pages; through cairn "
                + dumpMillis + " ms, " + dump.getStderr().strip() + "; -D kept " + left + "; got back:\n" + got
                + "chaos: counter at dump " + atDump + ", after restore " + afterRestore);
        // A fresh process would start from 1; the restored one goes on from its memory.
        assertTrue(afterRestore > atDump,
                () -> "the restored counter did not carry on: dumped at " + atDump + ", then " + afterRestore);
    }

    private static String step(GenericContainer<?> c, String... args) throws Exception {
        return CriuContainer.step(c, SCRIPT, args);
    }
}
