package dev.cairn.client.cli;

import dev.cairn.client.CairnAdmin;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The stdout of an admin command: lines about single nodes ({@code node-2: …}), a summary line
 * ({@code summary: …}) and, with {@code --json}, one JSON object with the same facts as the last
 * line. Scripts parse these lines (CLI.md), so their shape is written here once and each command
 * says only what its lines and fields hold. {@code health} and {@code nodes} print tables of their
 * own and use only the JSON last line.
 */
final class AdminOutput {

    private final boolean json;
    private final Map<String, Object> fields = new LinkedHashMap<>();

    AdminOutput(boolean json) {
        this.json = json;
    }

    /** One line about one node. */
    void node(String nodeId, String what) {
        System.out.println(nodeId + ": " + what);
    }

    void summary(String what) {
        System.out.println("summary: " + what);
    }

    /** A field of the JSON object; the object keeps them in the order they were added. */
    AdminOutput field(String name, Object value) {
        fields.put(name, value);
        return this;
    }

    /** Several fields at once, in their order. */
    AdminOutput fields(Map<String, Object> more) {
        fields.putAll(more);
        return this;
    }

    /** Prints the JSON object when {@code --json} asked for it; the command prints nothing after this. */
    void finish() {
        if (json) {
            Output.json(System.out, fields);
        }
    }

    /**
     * Progress of a command that every node runs: a line on stderr as each node answers, so stdout
     * keeps only the above. Only when stderr is a terminal (CLI.md): a script reading stderr for
     * the one-line error must not find progress there.
     */
    static CairnAdmin.NodeListener progress(String command) {
        return Output.stderrIsTerminal() ? progress(command, System.err) : CairnAdmin.NodeListener.NONE;
    }

    static CairnAdmin.NodeListener progress(String command, PrintStream err) {
        return (node, done, total, error) -> err.println(
                command + ": " + node + " " + (error == null ? "done" : "failed: " + error) + " (" + done + "/" + total + ")");
    }

    /** One line of progress on stderr, only when stderr is a terminal (see {@link #progress(String)}). */
    static void progressLine(String line) {
        if (Output.stderrIsTerminal()) {
            System.err.println(line);
        }
    }
}
