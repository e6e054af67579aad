package dev.cairn.chaos;

import com.github.dockerjava.api.DockerClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

/**
 * What the chaos tests need from the machine: a Docker engine, the locally built image, the host's
 * JDK (bind-mounted read-only into the containers) and this build's jars. {@link #require()} skips
 * the calling test with a message that says what is missing and how to get it.
 */
final class ChaosEnv {

    static final String IMAGE = System.getProperty("cairn.chaos.image", "cairn-chaos:trixie");
    static final String JDK_IN_CONTAINER = "/opt/jdk";
    static final String CAIRN_IN_CONTAINER = "/opt/cairn";

    final Path root;
    final Path jdk;
    final List<Path> jdkConfigDirs;
    final Path out;

    private ChaosEnv(Path root, Path jdk, List<Path> jdkConfigDirs, Path out) {
        this.root = root;
        this.jdk = jdk;
        this.jdkConfigDirs = jdkConfigDirs;
        this.out = out;
    }

    static ChaosEnv require() {
        Path root = Path.of(System.getProperty("cairn.root", "..")).toAbsolutePath().normalize();
        Path out = Path.of(System.getProperty("cairn.chaos.out", "target/chaos")).toAbsolutePath();
        String hint = "; run chaos-tests/setup-docker.sh (as root) to install and start Docker and build the image";
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            docker = false;
        }
        Assumptions.assumeTrue(docker, "chaos tests skipped: no Docker engine reachable" + hint);
        DockerClient client = DockerClientFactory.instance().client();
        boolean image;
        try {
            client.inspectImageCmd(IMAGE).exec();
            image = true;
        } catch (RuntimeException e) {
            image = false;
        }
        Assumptions.assumeTrue(image, "chaos tests skipped: image " + IMAGE + " is missing" + hint);
        for (String jar : List.of("server/target/cairn-server.jar", "server/target/lib", "client/target/cairn-client.jar",
                "client/target/lib")) {
            Assumptions.assumeTrue(Files.exists(root.resolve(jar)),
                    "chaos tests skipped: " + jar + " is not built; run ./mvnw -B verify from the top folder");
        }
        Path jdk = realPath(Path.of(System.getProperty("java.home")));
        // Debian's OpenJDK keeps its conf/ files as links into /etc/java-N-openjdk.
        List<Path> conf = new ArrayList<>();
        Path etc = Path.of("/etc/java-" + Runtime.version().feature() + "-openjdk");
        if (Files.isDirectory(etc)) {
            conf.add(etc);
        }
        return new ChaosEnv(root, jdk, conf, out);
    }

    static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (java.io.IOException e) {
            return p.toAbsolutePath();
        }
    }
}
