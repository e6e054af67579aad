package dev.cairn.client.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;

/**
 * Stops a command whose caller went away (Ctrl-C, a killed script), as a CLI process would
 * stop with it: the caller sends nothing after its request, so the end of its stream means it
 * is gone; then what the command started for the caller is stopped (a criu dump's criu, a
 * lazy-pages listener) and the command's thread is interrupted. A put or dump stopped this way
 * commits no image; what it stored is garbage that GC collects, as after a killed CLI.
 */
final class CallerWatch implements Runnable {
    private final InputStream fromCaller;
    private final Thread command;
    private final Runnable onLeave;
    private final String description;
    private final PrintStream log;
    private boolean ended;

    CallerWatch(InputStream fromCaller, Thread command, String description, PrintStream log) {
        this(fromCaller, command, () -> { }, description, log);
    }

    /** {@code onLeave} runs before the command is interrupted: it stops the command's children. */
    CallerWatch(InputStream fromCaller, Thread command, Runnable onLeave, String description, PrintStream log) {
        this.fromCaller = fromCaller;
        this.command = command;
        this.onLeave = onLeave;
        this.description = description;
        this.log = log;
    }

    @Override
    public void run() {
        try {
            while (fromCaller.read() >= 0) {
                // nothing is expected; read until the caller's end
            }
        } catch (IOException e) {
            // closed: by the caller, or by the agent once the command ended
        }
        synchronized (this) {
            if (ended) {
                return;
            }
            log.println("cairn agent: stopping " + description + ": its caller went away");
        }
        onLeave.run(); // outside the lock: stopping a child may take its grace period
        synchronized (this) {
            if (!ended) {
                command.interrupt();
            }
        }
    }

    synchronized void commandEnded() {
        ended = true;
    }
}
