package dev.cairn.it;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.client.CairnClient;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB image put by a client JVM limited to a 256 MiB heap into a real 3-node cluster: the
 * pipeline's memory is bounded, and the Raft entry of the commit stays small whatever the size.
 */
class LargeImageTest {

    static final long GIB = 1L << 30;
    static final int CLIENT_HEAP_MB = 256;

    @TempDir
    Path dir;

    /**
     * A sparse 1 GiB CRIU page file: holes (zero pages) with a 4 KiB block of pattern every MiB,
     * 64 distinct patterns. Cheap on disk, yet 262,144 page refs for the manifest.
     */
    static Path sparsePatternImage(Path root) throws IOException {
        Files.createDirectories(root);
        Path pages = root.resolve("pages-1.img");
        Random random = new Random(11);
        byte[][] patterns = new byte[64][4096];
        for (byte[] p : patterns) {
            random.nextBytes(p);
        }
        try (RandomAccessFile f = new RandomAccessFile(pages.toFile(), "rw")) {
            f.setLength(GIB);
            for (long at = 0, i = 0; at < GIB; at += 1 << 20, i++) {
                f.seek(at);
                f.write(patterns[(int) (i % patterns.length)]);
            }
        }
        Files.writeString(root.resolve("core-1.img"), "not really a core image\n");
        return root;
    }

    @Test
    void aOneGibImagePutsWithA256MibClientHeapAndItsRaftEntryStaysUnder1KiB() throws Exception {
        Path image = sparsePatternImage(dir.resolve("big"));
        try (TestCluster cluster = TestCluster.start(3, dir.resolve("cluster"))) {
            String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + CLIENT_HEAP_MB + "m", "-XX:+ExitOnOutOfMemoryError", "-cp", classpath,
                    "dev.cairn.client.cli.CairnCli", "put", "--json", "--cluster", cluster.endpoints(), "big/one", image.toString()));
            Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
            p.getOutputStream().close();
            // Drain stderr in the background so the child cannot block on a full pipe.
            Thread err = new Thread(() -> {
                try {
                    p.getErrorStream().transferTo(System.err);
                } catch (IOException ignored) {
                    // the child is gone
                }
            });
            err.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            err.join();
            assertEquals(0, code, "the -Xmx" + CLIENT_HEAP_MB + "m client failed: " + out);
            String[] lines = out.strip().split("\n");
            JsonNode put = new ObjectMapper().readTree(lines[lines.length - 1]);
            System.out.println("1 GiB put with -Xmx" + CLIENT_HEAP_MB + "m: " + put);
            assertEquals(GIB + 24, put.get("logicalBytes").asLong());
            assertEquals(GIB / 4096 + 1, put.get("chunks").asLong());

            try (CairnClient client = cluster.client()) {
                ImageInfo info = client.stat("big/one");
                int raftEntryBytes = new ImageMessages.CommitImage(new ImageName("big/one"), info.root()).encode().remaining();
                System.out.println("commit message of a 1 GiB image: " + raftEntryBytes + " bytes");
                assertTrue(raftEntryBytes < 1024, "commit of a 1 GiB image is " + raftEntryBytes + " bytes");
            }
        }
    }
}
