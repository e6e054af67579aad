package dev.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;

/**
 * CRIU's incremental images through a 3-node cluster, checked with CRIU's own image tool: three
 * dumps whose pagemaps {@code crit encode} made (present, lazy, in-parent by flag and by the old
 * {@code in_parent} bool) are put in order; rm of the parent is refused; get brings the chain back
 * byte for byte with its links; get --flatten writes one image in which {@code crit decode} finds
 * no in-parent entry and every page holds the bytes of the dump that last wrote it.
 *
 * <p>Why crit and not criu: this kernel has no soft-dirty tracking, so {@code criu dump} cannot
 * make an incremental dump here. When the image has no crit the test is skipped, saying how to
 * get it.
 */
class CriuLineageIT {

    private static final String SCRIPT = CriuContainer.scriptPath("criu-lineage.sh");

    @Test
    void aChainOfCritMadeDumpsIsStoredRestoredAndFlattened() throws Exception {
        ChaosEnv env = ChaosEnv.require();
        Path dir = env.out.resolve("criu-lineage");
        Files.createDirectories(dir);
        try (ChaosCluster cluster = ChaosCluster.start(env, 3, dir.resolve("config"));
             GenericContainer<?> criu = CriuContainer.create(env, cluster, "criu-lineage.sh")) {
            criu.start();
            try {
                Container.ExecResult check = criu.execInContainer(SCRIPT, "check");
                if (check.getExitCode() != 0) {
                    String why = "CRIU lineage test skipped: " + check.getStderr().strip();
                    System.out.println("chaos: " + why);
                    Assumptions.abort(why);
                }
                step(criu, "make");
                String stat = step(criu, "put");
                assertTrue(stat.contains("\"parent\":\"lineage/ckpt-2\""), () -> "stat does not show the parent: " + stat);

                String refused = step(criu, "rm");
                assertTrue(refused.contains("image lineage/ckpt-1 is the parent of image lineage/ckpt-2"),
                        () -> "rm of the parent was refused for another reason: " + refused);

                String links = step(criu, "chain");
                assertTrue(links.contains("../ckpt-2") && links.contains("../ckpt-1"), () -> "links: " + links);

                String flat = step(criu, "flatten");
                System.out.println("chaos: criu lineage: " + flat.strip().replace('\n', ' '));
                assertTrue(flat.contains("none in-parent, every page from the dump that wrote it"), () -> flat);
            } finally {
                cluster.writeLogs(dir);
            }
        }
    }

    private static String step(GenericContainer<?> c, String... args) throws Exception {
        return CriuContainer.step(c, SCRIPT, args);
    }
}
