package dev.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;

/**
 * A real CRIU round trip through the store: a counter process is dumped with Debian trixie's
 * criu 4.x, the dump is put into a 3-node cluster with the cairn CLI, deleted locally, got back
 * and restored; the restored process must carry on from the value it had in memory. Once
 * plainly, once with a node killed between dump and restore.
 *
 * <p>When {@code criu dump} itself does not work on the machine's kernel the test is skipped
 * with CRIU's own words, and summary.json says {@code "dumped": false}.
 */
class CriuRoundTripIT {

    private static final String SCRIPT = CriuContainer.scriptPath("criu-round-trip.sh");

    @Test
    void restoredProcessCarriesOnFromItsDumpedState() throws Exception {
        ChaosEnv env = ChaosEnv.require();
        Path dir = env.out.resolve("criu");
        List<Map<String, Object>> rounds = new ArrayList<>();
        boolean dumped = false;
        boolean restored = false;
        boolean verified = true;
        try (ChaosCluster cluster = ChaosCluster.start(env, 3, dir.resolve("config"));
             GenericContainer<?> criu = CriuContainer.create(env, cluster, "criu-round-trip.sh")) {
            criu.start();
            try {
                for (boolean killNode : new boolean[] {false, true}) {
                    String name = killNode ? "criu/counter-node-killed" : "criu/counter";
                    step(criu, "start");
                    Container.ExecResult dump = criu.execInContainer(SCRIPT, "dump");
                    if (dump.getExitCode() != 0) {
                        Summary.criu(env.out, false, false, false, rounds);
                        String why = "CRIU round trip skipped: criu dump does not work in a container on this kernel ("
                                + System.getProperty("os.version") + "): " + dump.getStderr().strip().replace('\n', ' ');
                        System.out.println("chaos: " + why);
                        Assumptions.abort(why);
                    }
                    long atDump = Long.parseLong(dump.getStdout().strip());
                    dumped = true;
                    step(criu, "put", name);
                    step(criu, "wipe");
                    if (killNode) {
                        cluster.kill(1);
                    }
                    step(criu, "get", name);
                    long afterRestore = Long.parseLong(step(criu, "restore").strip());
                    restored = true;
                    if (killNode) {
                        cluster.restart(1);
                    }
                    // A fresh process would start from 1; the restored one goes on from its memory.
                    boolean ok = afterRestore > atDump;
                    verified &= ok;
                    Map<String, Object> round = new LinkedHashMap<>();
                    round.put("name", name);
                    round.put("nodeKilled", killNode);
                    round.put("countAtDump", atDump);
                    round.put("countAfterRestore", afterRestore);
                    round.put("verified", ok);
                    rounds.add(round);
                    System.out.println("chaos: criu " + round);
                    criu.execInContainer("sh", "-c", "pkill -f 'while :' ; true");
                }
            } finally {
                cluster.writeLogs(dir);
            }
        }
        Summary.criu(env.out, dumped, restored, verified, rounds);
        assertEquals(2, rounds.size());
        assertTrue(verified, () -> "a restored counter did not carry on from its dumped value: " + rounds);
    }

    private static String step(GenericContainer<?> c, String... args) throws Exception {
        return CriuContainer.step(c, SCRIPT, args);
    }
}
