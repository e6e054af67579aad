package dev.cairn.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.github.dockerjava.api.model.Capability;
import java.nio.file.Path;
import java.util.List;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/** The container the CRIU tests run criu and the cairn CLI in, and the calls they make to its step script. */
final class CriuContainer {

    private CriuContainer() {}

    /** Where {@code scriptResource} (a test resource) is put in the container. */
    static String scriptPath(String scriptResource) {
        return "/usr/local/bin/" + scriptResource;
    }

    /**
     * A container on the cluster's network with the JDK and the client's jars bound in, the step
     * script copied in, and what criu needs: every capability but SYS_RESOURCE, no seccomp or
     * AppArmor profile, and Docker's init as PID 1.
     */
    static GenericContainer<?> create(ChaosEnv env, ChaosCluster cluster, String scriptResource) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(ChaosEnv.IMAGE))
                .withNetwork(cluster.network())
                .withEnv("CAIRN_CLUSTER", cluster.endpoints())
                .withFileSystemBind(env.jdk.toString(), ChaosEnv.JDK_IN_CONTAINER, BindMode.READ_ONLY)
                .withFileSystemBind(env.root.resolve("client/target").toString(), ChaosEnv.CAIRN_IN_CONTAINER + "/client",
                        BindMode.READ_ONLY)
                .withCopyFileToContainer(MountableFile.forClasspathResource(scriptResource, 0755), scriptPath(scriptResource))
                .withCommand("sleep", "infinity")
                // Docker's init (tini) as PID 1 reaps orphans; `sleep` does not. The counter is an
                // orphan of PID 1 once its start step returns, and when criu dump kills it an
                // unreaped zombie keeps its PID, which criu restore then cannot create again
                // ("Can't fork for 14: File exists").
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withInit(true)
                        .withCapAdd(Capability.ALL).withCapDrop(Capability.SYS_RESOURCE)
                        .withSecurityOpts(List.of("seccomp=unconfined", "apparmor=unconfined")));
        for (Path conf : env.jdkConfigDirs) {
            c.withFileSystemBind(conf.toString(), conf.toString(), BindMode.READ_ONLY);
        }
        return c;
    }

    /** Runs {@code script ARGS...} in {@code c}; fails the test with its output unless it exits 0; returns its stdout. */
    static String step(GenericContainer<?> c, String script, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = script;
        System.arraycopy(args, 0, cmd, 1, args.length);
        Container.ExecResult r = c.execInContainer(cmd);
        assertEquals(0, r.getExitCode(), () -> String.join(" ", args) + " failed: " + r.getStdout() + r.getStderr());
        return r.getStdout();
    }

    /** Copies a log out of {@code c} when it exists. */
    static void copyOut(GenericContainer<?> c, String from, Path to) {
        try {
            c.copyFileFromContainer(from, to.toString());
        } catch (Exception e) {
            // a log that was never written is not the failure being reported
        }
    }
}
