package dev.cairn.client.example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/client.md shows the example that this build compiles, word for word. */
class ClientGuideTest {

    @Test
    void theGuideShowsTheCompiledExample() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/cairn/client/example/ClientGuideExample.java"),
                StandardCharsets.UTF_8);
        String example = source.substring(source.indexOf('\n', source.indexOf("// example:start")) + 1,
                source.indexOf("// example:end"));
        String guide = Files.readString(Path.of("..", "docs", "client.md"), StandardCharsets.UTF_8);
        assertTrue(guide.contains("```java\n" + example + "```"),
                "docs/client.md must show ClientGuideExample between its example markers, unchanged");
    }
}
