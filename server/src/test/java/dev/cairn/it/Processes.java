package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

/** Runs a command of the machine (tar) for a test. */
final class Processes {

    private Processes() {
    }

    /** Runs {@code command} in {@code cwd}, asserts it exits 0, and returns what it printed on stdout. */
    static byte[] run(Path cwd, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), String.join(" ", command));
        return out;
    }
}
