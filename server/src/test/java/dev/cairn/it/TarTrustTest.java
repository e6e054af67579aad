package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.PutOptions;
import dev.cairn.client.RestoreOptions;
import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.image.ImageBuilder;
import dev.cairn.engine.image.TarWriter;
import dev.cairn.engine.manifest.FileEntry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a put of a tar and a restore trust, through a real one-node cluster: a cut-off archive is
 * not an image, and a restore plants no setuid or setgid file unless asked.
 */
class TarTrustTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(1, dir.resolve("cluster"));
        client = cluster.client();
    }

    @AfterAll
    static void stopCluster() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A tar of two small files, and where it would be cut after the first: a block boundary. */
    static byte[] twoFiles() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out, 0);
        w.file("first", 0644, 3);
        w.write(new byte[] {1, 2, 3}, 0, 3);
        w.file("second", 0644, 2);
        w.write(new byte[] {4, 5}, 0, 2);
        w.finish();
        return out.toByteArray();
    }

    static final int AFTER_FIRST = 2 * 512;

    @Test
    void aTarCutOffAtABlockBoundaryIsRefusedAndNothingIsCommitted() throws Exception {
        byte[] cut = Arrays.copyOf(twoFiles(), AFTER_FIRST);
        CairnException.LocalIo e = assertThrows(CairnException.LocalIo.class,
                () -> client.putTar("cut/api", new ByteArrayInputStream(cut)));
        assertTrue(e.getMessage().contains("ends without its end-of-archive blocks after entry 'first'"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("cut/api"));

        Path file = dir.resolve("cut.tar");
        Files.write(file, cut);
        CliTest.Run cli = CliTest.cairn("put", "--cluster", cluster.endpoints(), "--tar", "cut/cli", file.toString());
        assertEquals(1, cli.code(), cli.out());
        assertTrue(cli.err().contains("it was cut off (add --allow-truncated-tar to store what arrived)"), cli.err());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("cut/cli"));
    }

    @Test
    void theHttpGatewayRefusesACutOffTarWithA4xx() throws Exception {
        String url = "http://127.0.0.1:" + cluster.config(0).self().httpPort() + "/v1/images/cut/http";
        HttpResponse<String> put = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-tar")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(Arrays.copyOf(twoFiles(), AFTER_FIRST))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, put.statusCode(), put.body());
        assertTrue(put.body().contains("end-of-archive"), put.body());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("cut/http"));
    }

    /** A source tree with setuid, setgid and sticky bits, as a checkpoint from another host might hold. */
    static Path setIdTree(String name) throws Exception {
        Path src = Files.createDirectories(dir.resolve(name));
        Files.write(src.resolve("suid"), new byte[] {1});
        Files.write(src.resolve("sgid"), new byte[] {2});
        Files.createDirectories(src.resolve("shared"));
        Files.createDirectories(src.resolve("tmp"));
        mode(src.resolve("suid"), 04755);
        mode(src.resolve("sgid"), 02711);
        mode(src.resolve("shared"), 02775);
        mode(src.resolve("tmp"), 01777);
        return src;
    }

    static void mode(Path p, int mode) throws Exception {
        Files.setAttribute(p, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    static int modeOf(Path p) throws Exception {
        return ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 07777;
    }

    /** The modes of a tar's entries, read back as a put reads them. */
    static Map<String, Integer> tarModes(byte[] tar) throws Exception {
        Map<String, Integer> modes = new HashMap<>();
        try (ChunkPipeline p = ChunkPipeline.withDefaults(c -> { })) {
            for (FileEntry e : new ImageBuilder(p).fromTar(new ByteArrayInputStream(tar)).entries()) {
                modes.put(e.path(), e.mode());
            }
        }
        return modes;
    }

    @Test
    void aRestoreStripsSetuidAndSetgidButKeepsTheStickyBit() throws Exception {
        client.put("setid/strip", setIdTree("setid-src"));
        Path restored = dir.resolve("setid-restored");
        client.get("setid/strip", restored);
        assertEquals(0755, modeOf(restored.resolve("suid")));
        assertEquals(0711, modeOf(restored.resolve("sgid")));
        assertEquals(0775, modeOf(restored.resolve("shared")));
        assertEquals(01777, modeOf(restored.resolve("tmp")));

        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        client.getTar("setid/strip", tar);
        assertEquals(Map.of("suid", 0755, "sgid", 0711, "shared", 0775, "tmp", 01777), tarModes(tar.toByteArray()));
    }

    @Test
    void aCutOffTarIsStoredAsItArrivedWhenAllowed() throws Exception {
        byte[] cut = Arrays.copyOf(twoFiles(), AFTER_FIRST);
        client.putTar("cut/allowed-api", new ByteArrayInputStream(cut), PutOptions.DEFAULT.withAllowTruncatedTar(),
                dev.cairn.client.ProgressListener.NONE);
        assertEquals(1, client.stat("cut/allowed-api").root().fileCount());

        Path file = dir.resolve("cut-allowed.tar");
        Files.write(file, cut);
        CliTest.Run cli = CliTest.cairn("put", "--cluster", cluster.endpoints(), "--tar", "--allow-truncated-tar",
                "cut/allowed-cli", file.toString());
        assertEquals(0, cli.code(), cli.err());
        CliTest.Run withoutTar = CliTest.cairn("put", "--cluster", cluster.endpoints(), "--allow-truncated-tar",
                "cut/not-a-tar", file.toString());
        assertEquals(1, withoutTar.code());
        assertTrue(withoutTar.err().contains("add --tar"), withoutTar.err());
        Path restored = dir.resolve("cut-allowed-restored");
        client.get("cut/allowed-cli", restored);
        assertEquals(java.util.List.of("first"), Files.list(restored).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void setuidAndSetgidAreKeptOnlyWhenAsked() throws Exception {
        client.put("setid/keep", setIdTree("setid-keep-src"));
        Path restored = dir.resolve("setid-kept");
        client.get("setid/keep", restored, RestoreOptions.DEFAULT.withKeepSetId(), dev.cairn.client.ProgressListener.NONE);
        assertEquals(04755, modeOf(restored.resolve("suid")));
        assertEquals(02775, modeOf(restored.resolve("shared")));

        String c = cluster.endpoints();
        Path cliKept = dir.resolve("setid-cli-kept");
        CliTest.Run get = CliTest.cairn("get", "--cluster", c, "--keep-setid", "setid/keep", cliKept.toString());
        assertEquals(0, get.code(), get.err());
        assertEquals(02711, modeOf(cliKept.resolve("sgid")));
        Path cliStripped = dir.resolve("setid-cli-stripped");
        assertEquals(0, CliTest.cairn("get", "--cluster", c, "setid/keep", cliStripped.toString()).code());
        assertEquals(0711, modeOf(cliStripped.resolve("sgid")));

        Path tarKept = dir.resolve("setid-kept.tar");
        CliTest.Run tar = CliTest.cairn("get", "--cluster", c, "--tar", "--keep-setid", "setid/keep", tarKept.toString());
        assertEquals(0, tar.code(), tar.err());
        assertEquals(04755, tarModes(Files.readAllBytes(tarKept)).get("suid"));
        Path tarStripped = dir.resolve("setid-stripped.tar");
        assertEquals(0, CliTest.cairn("get", "--cluster", c, "--tar", "setid/keep", tarStripped.toString()).code());
        assertEquals(0755, tarModes(Files.readAllBytes(tarStripped)).get("suid"));
    }
}
