package dev.cairn.client;

import java.nio.file.Path;

/** Lets tests of other packages start a {@link TestCluster}. */
public final class CliCluster implements AutoCloseable {

    private final TestCluster cluster;

    private CliCluster(TestCluster cluster) {
        this.cluster = cluster;
    }

    public static CliCluster start(Path dir) throws Exception {
        return new CliCluster(TestCluster.start(3, dir));
    }

    public String endpoints() {
        return cluster.endpoints();
    }

    @Override
    public void close() {
        cluster.close();
    }
}
