package dev.cairn.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AdminOutputTest {

    @Test
    void progressNamesTheCommandTheNodeItsOutcomeAndHowManyAnswered() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        var listener = AdminOutput.progress("repair", err);
        listener.onNode("node-2", 1, 3, null);
        listener.onNode("node-3", 2, 3, "connection refused");
        assertEquals("repair: node-2 done (1/3)\nrepair: node-3 failed: connection refused (2/3)\n",
                bytes.toString(StandardCharsets.UTF_8));
    }
}
