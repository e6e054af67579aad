package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClientConfigTest {

    @Test
    void parseSplitsACommaSeparatedListAndTrimsIt() {
        ClientConfig c = ClientConfig.parse("a.example:7400, 10.0.0.2:7401,,[::1]:7402 ");
        assertEquals(List.of("a.example:7400", "10.0.0.2:7401", "[::1]:7402"), c.endpoints());
        assertEquals(ClientConfig.DEFAULT_REQUEST_TIMEOUT, c.requestTimeout());
    }

    @Test
    void theReadHedgeDelayDefaultsTo20MsAndMayNotBeNegative() {
        ClientConfig c = ClientConfig.parse("h:1");
        assertEquals(java.time.Duration.ofMillis(20), c.readHedgeDelay());
        assertEquals(java.time.Duration.ZERO, c.withReadHedgeDelay(java.time.Duration.ZERO).readHedgeDelay());
        assertEquals(5, c.withReadHedgeDelay(java.time.Duration.ofMillis(50)).withZstdLevel(5).zstdLevel());
        assertEquals(java.time.Duration.ofMillis(50),
                c.withReadHedgeDelay(java.time.Duration.ofMillis(50)).withZstdLevel(5).readHedgeDelay());
        ConfigException e = assertThrows(ConfigException.class, () -> c.withReadHedgeDelay(java.time.Duration.ofMillis(-1)));
        assertTrue(e.getMessage().contains("read hedge delay") && e.getMessage().contains("20 ms is the default"),
                e.getMessage());
    }

    @Test
    void parseEndpointSplitsAtTheLastColon() {
        assertEquals(new ClientConfig.HostPort("[::1]", 7402), ClientConfig.parseEndpoint("[::1]:7402"));
        assertEquals("h:1", ClientConfig.parseEndpoint("h:1").toString());
    }

    @Test
    void anEmptyClusterPointsAtCairnCluster() {
        for (String empty : new String[] {null, "", "   ", " , ,"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ClientConfig.parse(empty), "input " + empty);
            assertTrue(e.getMessage().contains("CAIRN_CLUSTER"), e.getMessage());
        }
    }

    @Test
    void refusesAnEndpointWithoutHostOrPort() {
        for (String bad : new String[] {"host", ":7400", "host:", "a:1,host"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ClientConfig.parse(bad), bad);
            assertTrue(e.getMessage().contains("is not host:port"), e.getMessage());
        }
    }

    @Test
    void refusesAPortThatIsNotANumber() {
        ConfigException e = assertThrows(ConfigException.class, () -> ClientConfig.parse("host:http"));
        assertTrue(e.getMessage().contains("'host:http'"), e.getMessage());
        assertTrue(e.getMessage().contains("not a number"), e.getMessage());
    }

    @Test
    void refusesAPortOutsideTheTcpRange() {
        for (String bad : new String[] {"host:0", "host:65536", "host:-1"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ClientConfig.parse(bad), bad);
            assertTrue(e.getMessage().contains("outside 1-65535"), e.getMessage());
        }
    }
}
