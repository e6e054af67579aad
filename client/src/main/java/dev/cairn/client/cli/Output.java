package dev.cairn.client.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** How the CLI prints: human lines, a JSON last line for scripts, progress only on a terminal. */
final class Output {

    /** Built on first use only: an ObjectMapper costs tens of milliseconds of a CLI start without --json. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private Output() {}

    static void json(PrintStream out, Map<String, ?> fields) {
        try {
            out.println(Json.MAPPER.writeValueAsString(fields));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode JSON output", e);
        }
    }

    /** True when stderr is a terminal, so a progress bar helps a person and cannot break a script. */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return false;
        }
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
