package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeConfigTest {

    private static final Path DATA = Path.of("data").toAbsolutePath();

    @Test
    void selfIsTheAddressNamedByNodeId() {
        NodeAddress a = new NodeAddress("a", "h", 1, 2, 3);
        NodeAddress b = new NodeAddress("b", "h", 4, 5, 6);
        NodeConfig c = new NodeConfig("b", DATA, Quorum.defaultFor(2), List.of(a, b), Limits.defaults());
        assertEquals(b, c.self());
        assertEquals("h:4", c.self().endpoint());
    }

    @Test
    void refusesADuplicateNodeId() {
        NodeAddress a = new NodeAddress("a", "h", 1, 2, 3);
        NodeAddress a2 = new NodeAddress("a", "h", 4, 5, 6);
        ConfigException e = assertThrows(ConfigException.class,
                () -> new NodeConfig("a", DATA, Quorum.defaultFor(1), List.of(a, a2), Limits.defaults()));
        assertTrue(e.getMessage().contains("'a' appears twice"), e.getMessage());
    }

    @Test
    void refusesAPortUsedTwiceWithinOneNode() {
        NodeAddress a = new NodeAddress("a", "h", 1, 1, 3);
        ConfigException e = assertThrows(ConfigException.class,
                () -> new NodeConfig("a", DATA, Quorum.defaultFor(1), List.of(a), Limits.defaults()));
        assertTrue(e.getMessage().contains("h:1 is used twice"), e.getMessage());
    }

    @Test
    void refusesAnInvalidNodeAddress() {
        assertTrue(assertThrows(ConfigException.class, () -> new NodeAddress("-a", "h", 1, 2, 3))
                .getMessage().contains("node id '-a' is invalid"));
        assertTrue(assertThrows(ConfigException.class, () -> new NodeAddress("a", " ", 1, 2, 3))
                .getMessage().contains("host is missing"));
        assertTrue(assertThrows(ConfigException.class, () -> new NodeAddress("a", "h", 1, 70000, 3))
                .getMessage().contains("raftPort must be 1-65535, got 70000"));
    }

    @Test
    void refusesLimitsThatCannotHoldOneChunkPerFrame() {
        assertTrue(assertThrows(ConfigException.class, () -> new Limits(1 << 20, 1024))
                .getMessage().contains("maxChunkBytes must be at least 4096"));
        assertTrue(assertThrows(ConfigException.class, () -> new Limits(1 << 20, 1 << 20))
                .getMessage().contains("maxFrameBytes must be at least maxChunkBytes + 65536"));
    }

    @Test
    void refusesNetworkLimitsThatCannotHoldOneRequestOrBoundNothing() {
        int frame = Limits.DEFAULT_MAX_FRAME_BYTES;
        int chunk = Limits.DEFAULT_MAX_CHUNK_BYTES;
        assertTrue(assertThrows(ConfigException.class, () -> new Limits(frame, chunk, 0, 1L << 26, 1L << 29))
                .getMessage().contains("limits.maxConnections must be 1-65536, got 0"));
        assertTrue(assertThrows(ConfigException.class, () -> new Limits(frame, chunk, 10, frame - 1, 1L << 29))
                .getMessage().contains("limits.maxInFlightBytesPerConnection must be at least maxFrameBytes"));
        assertTrue(assertThrows(ConfigException.class, () -> new Limits(frame, chunk, 10, 1L << 26, 1L << 25))
                .getMessage().contains("limits.maxInFlightBytes must be at least maxInFlightBytesPerConnection"));
        assertTrue(assertThrows(ConfigException.class, () -> new Limits(frame, chunk, 10, 1L << 26, 1L << 40))
                .getMessage().contains("limits.maxInFlightBytes must be at least"));
    }
}
