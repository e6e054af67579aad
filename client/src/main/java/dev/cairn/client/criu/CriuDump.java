package dev.cairn.client.criu;

import dev.cairn.client.CairnClient;
import dev.cairn.client.ProgressListener;
import dev.cairn.client.PutResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command that dumps through Cairn's page server ({@code criu dump --page-server …}, or
 * {@code runc checkpoint --page-server …}) and stores what it makes as one image: the pages from
 * the connection, then, once the command has exited 0, its images directory. CRIU sends its close
 * before it flushes its last image files, so only the command's exit says the dump is whole.
 */
public final class CriuDump {

    /** How often the wait for criu's connection checks that criu is still running. */
    private static final Duration CONNECT_POLL = Duration.ofMillis(100);

    private CriuDump() {}

    /** Starts the dumping command: in which directory, with which environment, and who may stop it. */
    @FunctionalInterface
    public interface Launcher {
        /** The started command, its stderr merged into its stdout (both are relayed to the log). */
        Process start(List<String> command) throws IOException;
    }

    /** In this process's working directory and environment: the CLI's launcher. */
    public static final Launcher HERE = command -> new ProcessBuilder(command).redirectErrorStream(true).start();

    /**
     * Starts {@code command}, takes its page-server connection on {@code listener} and stores the
     * dump as {@code name}; the command's output goes to {@code log}. Nothing is committed unless
     * the whole stream arrived and the command exited 0.
     */
    public static PutResult run(CairnClient client, String name, PageServerListener listener, List<String> command,
                                Path imagesDir, OutputStream log, PageServerLimits limits, ProgressListener progress)
            throws IOException {
        return run(client, name, listener, command, imagesDir, log, limits, progress, HERE);
    }

    /** The same, with the command started by {@code launcher} (the agent's runs it as its caller would). */
    public static PutResult run(CairnClient client, String name, PageServerListener listener, List<String> command,
                                Path imagesDir, OutputStream log, PageServerLimits limits, ProgressListener progress,
                                Launcher launcher) throws IOException {
        String what = command.get(0);
        Process process;
        try {
            process = launcher.start(command);
        } catch (IOException e) {
            throw new IOException("cannot run " + what + ": " + e.getMessage() + " (is it installed and on PATH?)", e);
        }
        Thread pump = pump(process.getInputStream(), log);
        try {
            Socket connection = awaitConnection(listener, process, what, limits.idleTimeout());
            return CriuIngest.ingest(client, name, connection, () -> {
                awaitSuccess(process, what, limits.idleTimeout());
                return CriuIngest.directory(imagesDir);
            }, limits, progress);
        } finally {
            stop(process);
            joinQuietly(pump);
        }
    }

    private static Socket awaitConnection(PageServerListener listener, Process process, String what, Duration timeout)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (listener) {
            while (true) {
                Socket socket = listener.tryAccept(CONNECT_POLL);
                if (socket != null) {
                    return socket;
                }
                if (!process.isAlive()) {
                    throw new IOException(what + " exited with status " + process.exitValue() + " before it connected "
                            + "to the page server; its output above says why. Nothing was stored");
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException(what + " did not connect to the page server on port " + listener.port()
                            + " within " + timeout.toSeconds() + " s; give it --page-server --port " + listener.port());
                }
            }
        }
    }

    private static void awaitSuccess(Process process, String what, Duration timeout) throws IOException {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException(what + " sent its pages but did not exit within " + timeout.toSeconds()
                        + " s; nothing was stored");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for " + what + " to exit");
        }
        if (process.exitValue() != 0) {
            throw new IOException(what + " exited with status " + process.exitValue() + " after sending its pages; "
                    + "its output above says why. Nothing was stored");
        }
    }

    /** A command still running after a failed ingest is stopped: its dump cannot be stored any more. */
    private static void stop(Process process) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static Thread pump(InputStream from, OutputStream to) {
        Thread t = new Thread(() -> {
            try (from) {
                byte[] buf = new byte[8192];
                for (int n; (n = from.read(buf)) > 0; ) {
                    to.write(buf, 0, n);
                    to.flush();
                }
            } catch (IOException e) {
                // the command's output is a courtesy; its exit status is what counts
            }
        }, "criu-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
