package dev.cairn.server;

import dev.cairn.config.ConfigException;
import dev.cairn.config.ConfigFiles;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cairn server --config FILE}: runs one node in the foreground until it is signalled. */
@Command(name = "cairn server", mixinStandardHelpOptions = true,
        description = "Runs one Cairn node in the foreground. A node restarted with the same config rejoins with its data.",
        footer = {"", "Example:", "  cairn server --config cairn-data/node-1/cairn.yaml"})
public final class ServerMain implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "the node's cairn.yaml")
    Path config;

    @Option(names = "--verbose", description = "print stack traces of errors")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        NodeConfig node;
        try {
            node = ConfigFiles.loadNode(config);
        } catch (ConfigException e) {
            System.err.println("cairn server: " + e.getMessage());
            return 2;
        }
        CairnServer server;
        try {
            server = CairnServer.start(node);
        } catch (Exception e) {
            System.err.println("cairn server: node " + node.nodeId() + " failed to start: " + e.getMessage());
            if (verbose) {
                e.printStackTrace();
            }
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "cairn-shutdown"));
        NodeAddress self = node.self();
        System.out.println("node " + node.nodeId() + " serving: protocol " + self.endpoint() + ", raft " + self.host() + ":"
                + self.raftPort() + ", http " + self.host() + ":" + self.httpPort() + ", data " + node.dataDir());
        System.out.flush();
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        int code = new CommandLine(new ServerMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }
}
