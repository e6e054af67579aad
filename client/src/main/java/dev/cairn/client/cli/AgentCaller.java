package dev.cairn.client.cli;

import dev.cairn.client.criu.CriuDump;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a command the agent runs for one caller starts and opens on that caller's behalf: its child
 * processes (criu, runc) run in the caller's working directory with the caller's {@code PATH} and
 * {@code CAIRN_*} variables, and when the caller goes away they are stopped, with their children,
 * and what the command registered is closed, as the end of a CLI process would have done.
 */
final class AgentCaller implements Invocation.Children {

    /** How long a stopped child has to exit after SIGTERM before it is killed. */
    private static final long STOP_GRACE_SECONDS = 5;

    private final Path workingDir;
    /** The caller's PATH and CAIRN_* variables; null from a caller that did not send them (the agent's own are kept). */
    private final Map<String, String> environment;
    private final List<AutoCloseable> open = new ArrayList<>();
    private boolean left;

    AgentCaller(Path workingDir, Map<String, String> environment) {
        this.workingDir = workingDir;
        this.environment = environment;
    }

    @Override
    public CriuDump.Launcher launcher() {
        return this::start;
    }

    private Process start(List<String> command) throws IOException {
        List<String> resolved = new ArrayList<>(command);
        resolved.set(0, resolve(command.get(0)));
        ProcessBuilder builder = new ProcessBuilder(resolved).directory(workingDir.toFile()).redirectErrorStream(true);
        if (environment != null) {
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(name -> name.equals("PATH") || name.startsWith("CAIRN_"));
            env.putAll(environment);
        }
        Process process = builder.start();
        closeWhenCallerLeaves(() -> stop(process));
        return process;
    }

    /**
     * The program as the caller's shell would find it: a name with a slash from the caller's working
     * directory, a bare name on the caller's PATH. Java would look a bare name up on the agent's PATH.
     */
    private String resolve(String program) {
        if (program.contains("/")) {
            return workingDir.resolve(program).toString();
        }
        String path = environment != null ? environment.get("PATH") : System.getenv("PATH");
        if (path == null) {
            return program;
        }
        for (String dir : path.split(File.pathSeparator, -1)) {
            Path candidate = workingDir.resolve(dir.isEmpty() ? "." : dir).resolve(program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return program; // not found: starting it fails with the name the caller gave
    }

    @Override
    public void closeWhenCallerLeaves(AutoCloseable resource) {
        synchronized (this) {
            if (!left) {
                open.add(resource);
                return;
            }
        }
        closeQuietly(resource);
    }

    /** The caller went away: stops the children and closes what the command registered. */
    void callerLeft() {
        List<AutoCloseable> toClose;
        synchronized (this) {
            left = true;
            toClose = new ArrayList<>(open);
            open.clear();
        }
        toClose.forEach(AgentCaller::closeQuietly);
    }

    /** SIGTERM to the child and its descendants (a script's own children too), then SIGKILL to those still running. */
    private static void stop(Process process) {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_GRACE_SECONDS);
        for (ProcessHandle handle : tree) {
            try {
                long left = deadline - System.nanoTime();
                handle.onExit().get(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                handle.destroyForcibly();
            } catch (InterruptedException e) {
                handle.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            // stopping for a caller that is gone: nobody is left to tell
        }
    }
}
