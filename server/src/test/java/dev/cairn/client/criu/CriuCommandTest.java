package dev.cairn.client.criu;

import static dev.cairn.it.CliTest.cairn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.it.TestCluster;
import dev.cairn.it.CliTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn criu dump} against a stand-in for criu: a shell script that parses the arguments
 * Cairn gives criu, sends a recorded page-server conversation over bash's {@code /dev/tcp}, reads
 * the answers, and only then writes its last image file (as criu flushes after its close) and
 * exits with the status it is told.
 */
class CriuCommandTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;
    static Path fakeCriu;
    static Path stream;
    static PageServerIngestTest.Dump dump;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
        client = cluster.client();
        dump = new PageServerIngestTest.Dump().open(100).present(0x40_0000, 64, 1, 6).lazy(0x50_0000, 10).close();
        stream = dir.resolve("conversation.bin");
        Files.write(stream, dump.bytes());
        fakeCriu = dir.resolve("fake-criu");
        Files.writeString(fakeCriu, String.join("\n",
                "#!/bin/bash",
                "# fake-criu dump -D DIR --page-server --address A --port P STREAM EXIT",
                "set -e",
                "[ \"$1\" = dump ] || { echo \"fake-criu: expected dump, got $1\" >&2; exit 9; }",
                "shift",
                "extra=()",
                "while [ $# -gt 0 ]; do case \"$1\" in",
                "  -D) dir=$2; shift 2;; --address) addr=$2; shift 2;; --port) port=$2; shift 2;;",
                "  --page-server) shift;; *) extra+=(\"$1\"); shift;; esac; done",
                "echo \"fake-criu: dumping to the page server at $addr:$port\" >&2",
                "[ \"${extra[0]}\" = none ] && { echo 'fake-criu: cannot seize task' >&2; exit ${extra[1]}; }",
                "exec 3<>/dev/tcp/$addr/$port",
                // as real criu: the OPEN2 (the stream's first 24 bytes), then wait for its answer
                "head -c 24 \"${extra[0]}\" >&3",
                "head -c 1 <&3 > \"$dir/answers\"",
                "tail -c +25 \"${extra[0]}\" >&3",
                "head -c 4 <&3 >> \"$dir/answers\"",
                "printf 'core of 100' > \"$dir/core-100.img\"",
                "exit ${extra[1]}",
                ""));
        Files.setPosixFilePermissions(fakeCriu, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }



    private Run criuDump(String name, String streamArg, int exit) {
        return cairn("criu", "dump", name, "--cluster", cluster.endpoints(), "--criu", fakeCriu.toString(), "--json",
                "--", streamArg, Integer.toString(exit));
    }

    @Test
    void aDumpIsStoredWithItsPagesAndTheFilesCriuWroteAfterItsClose() throws Exception {
        Run r = criuDump("criu-cli/ok", stream.toString(), 0);

        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("stored criu-cli/ok: "), r.out());
        assertTrue(r.out().strip().endsWith("}") && r.out().contains("\"newChunks\""), r.out());
        assertTrue(r.err().contains("fake-criu: dumping to the page server at 127.0.0.1:"), r.err());
        Path got = dir.resolve("got");
        client.get("criu-cli/ok", got);
        try (var list = Files.list(got)) {
            assertEquals(List.of("answers", "core-100.img", "pagemap-100.img", "pages-65537.img"),
                    list.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertArrayEquals(new byte[5], Files.readAllBytes(got.resolve("answers")), "criu was answered as CRIU's server answers");
        assertEquals("core of 100", Files.readString(got.resolve("core-100.img")));
        assertArrayEquals(dump.files.get("pages-65537.img").toByteArray(), Files.readAllBytes(got.resolve("pages-65537.img")));
        assertArrayEquals(dump.files.get("pagemap-100.img").toByteArray(), Files.readAllBytes(got.resolve("pagemap-100.img")));
    }

    @Test
    void criuFailingAfterItsPagesCommitsNothing() {
        Run r = criuDump("criu-cli/failed", stream.toString(), 1);

        assertEquals(1, r.code());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("cairn: ") && l.contains("exited with status 1 after sending its pages")
                && l.endsWith("Nothing was stored")), r.err());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("criu-cli/failed"));
    }

    @Test
    void criuFailingBeforeItConnectsIsReportedWithItsStatus() {
        Run r = criuDump("criu-cli/early", "none", 3);

        assertEquals(1, r.code());
        assertTrue(r.err().contains("fake-criu: cannot seize task"), r.err());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("cairn: ") && l.contains("exited with status 3 before it connected")),
                r.err());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("criu-cli/early"));
    }

    @Test
    void thePageServerCommandStoresWhatTheCommandItRunsDumpsThroughIt() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Path images = Files.createDirectories(dir.resolve("runc-images"));

        Run r = cairn("criu", "page-server", "criu-cli/runc", "--cluster", cluster.endpoints(), "--port", Integer.toString(port),
                "--images-dir", images.toString(), "--", fakeCriu.toString(), "dump", "-D", images.toString(), "--page-server",
                "--address", "127.0.0.1", "--port", Integer.toString(port), stream.toString(), "0");

        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().startsWith("page server for criu-cli/runc listening on 127.0.0.1:" + port), r.err());
        Path got = dir.resolve("got-runc");
        client.get("criu-cli/runc", got);
        assertEquals("core of 100", Files.readString(got.resolve("core-100.img")));
        assertArrayEquals(dump.files.get("pages-65537.img").toByteArray(), Files.readAllBytes(got.resolve("pages-65537.img")));
    }
}
