package dev.cairn.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Free loopback ports for test nodes. The kernel may hand out a port again as soon as the probe
 * socket is closed, so two nodes of one cluster could be given the same one (a config then
 * refuses to load); this never returns a port twice in one test JVM.
 */
final class TestPorts {

    private static final Set<Integer> GIVEN = new HashSet<>();

    private TestPorts() {}

    static synchronized int free() throws IOException {
        while (true) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (GIVEN.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
    }
}
