package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code cairn admin gc}'s default wait follows the put's session lease, which it is written next to. */
class GcCommandTest {

    @Test
    void theDefaultMaxWaitOutlastsAPutsSessionLeaseAndItsHelpNamesThatLease() {
        CommandLine.Model.OptionSpec maxWait = CairnCli.commandLine().getSubcommands().get("admin").getSubcommands()
                .get("gc").getCommandSpec().findOption("--max-wait");
        Duration wait = Duration.ofSeconds(Long.parseLong(maxWait.defaultValue()));
        // Past the lease, so that an epoch outwaits a session whose client died; not far past it,
        // or an orphaned session would hold the epoch back as long as the wait.
        assertTrue(wait.compareTo(CairnClient.DEFAULT_SESSION_LEASE) > 0, wait + " is not past the lease");
        assertTrue(wait.compareTo(CairnClient.DEFAULT_SESSION_LEASE.multipliedBy(2)) <= 0, wait + " is far past the lease");
        String help = String.join(" ", maxWait.description());
        assertTrue(help.contains(CairnClient.DEFAULT_SESSION_LEASE.toSeconds() + " s lease"), help);
    }
}
