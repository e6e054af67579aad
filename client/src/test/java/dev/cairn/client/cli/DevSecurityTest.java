package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.cli.DevCommand.Security;
import dev.cairn.config.AuthConfig;
import dev.cairn.config.ConfigException;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Whether {@code cairn dev} turns TLS and tokens on: by default yes, and a restart keeps the first start's choice. */
class DevSecurityTest {

    private static final Optional<NodeConfig> FRESH = Optional.empty();

    @Test
    void aFreshClusterHasTlsAndTokensUnlessTurnedOff() {
        assertEquals(new Security(true, true), Security.resolve(false, false, false, false, FRESH));
        assertEquals(new Security(false, true), Security.resolve(false, true, false, false, FRESH));
        assertEquals(new Security(true, false), Security.resolve(false, false, false, true, FRESH));
        assertEquals(new Security(true, true), Security.resolve(true, false, true, false, FRESH));
    }

    @Test
    void aRestartWithoutFlagsKeepsWhatTheFirstStartChose() {
        Optional<NodeConfig> plain = Optional.of(plainNode());
        assertEquals(new Security(false, false), Security.resolve(false, false, false, false, plain));
        // A flag still says what the user wants; the config check then refuses the mismatch by name.
        assertEquals(new Security(true, true), Security.resolve(true, false, true, false, plain));
    }

    @Test
    void contradictoryFlagsAreRefusedByName() {
        ConfigException tls = assertThrows(ConfigException.class, () -> Security.resolve(true, true, false, false, FRESH));
        assertTrue(tls.getMessage().contains("--tls and --no-tls"), tls.getMessage());
        ConfigException auth = assertThrows(ConfigException.class, () -> Security.resolve(false, false, true, true, FRESH));
        assertTrue(auth.getMessage().contains("--auth and --no-auth"), auth.getMessage());
    }

    private static NodeConfig plainNode() {
        List<NodeAddress> nodes = List.of(new NodeAddress("node-1", "127.0.0.1", 7400, 7401, 7402));
        return new NodeConfig("node-1", Path.of("data"), new Quorum(1, 1, 1), nodes, Limits.defaults(), false)
                .withAuth(AuthConfig.OFF);
    }
}
