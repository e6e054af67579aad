package dev.cairn.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Jepsen's history: every operation as an {@code invoke} and then exactly one completion —
 * {@code ok}, {@code fail} (it certainly did not happen) or {@code info} (unknown: it may or may
 * not have taken effect). Times are nanoseconds since the run started. Nemesis actions are
 * recorded too, as {@code info} entries of process {@code nemesis}. Written as JSON lines.
 */
final class History {

    enum Type { invoke, ok, fail, info }

    /**
     * One entry. {@code value} is what the operation carried: for a put the SHA-256 and size of
     * the bytes sent, for a get those of the bytes read, for the nemesis what it did.
     */
    record Op(long index, String process, Type type, String f, String name, String sha256, long size, long time,
              String error) {

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", index);
            m.put("time", time);
            m.put("process", process);
            m.put("type", type.name());
            m.put("f", f);
            if (name != null) {
                m.put("name", name);
            }
            if (sha256 != null) {
                m.put("sha256", sha256);
                m.put("size", size);
            }
            if (error != null) {
                m.put("error", error);
            }
            return m;
        }
    }

    private final long start = System.nanoTime();
    private final List<Op> ops = new ArrayList<>();

    synchronized Op add(String process, Type type, String f, String name, String sha256, long size, String error) {
        Op op = new Op(ops.size(), process, type, f, name, sha256, size, System.nanoTime() - start, error);
        ops.add(op);
        return op;
    }

    Op invoke(String process, String f, String name, String sha256, long size) {
        return add(process, Type.invoke, f, name, sha256, size, null);
    }

    void nemesis(String what) {
        add("nemesis", Type.info, what, null, null, 0, null);
    }

    synchronized List<Op> ops() {
        return List.copyOf(ops);
    }

    void write(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Files.createDirectories(file.getParent());
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            for (Op op : ops()) {
                w.write(json.writeValueAsString(op.toJson()));
                w.newLine();
            }
        }
    }
}
