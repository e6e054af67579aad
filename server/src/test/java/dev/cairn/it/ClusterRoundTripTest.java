package dev.cairn.it;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.GetResult;
import dev.cairn.client.PutResult;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.ClientConfig;
import dev.cairn.engine.manifest.ImageInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Puts and gets through a real 3-node cluster in this JVM (real Ratis, RocksDB and Netty on loopback). */
class ClusterRoundTripTest {

    @TempDir
    static Path dir;

    static TestCluster cluster;
    static CairnClient client;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(3, dir.resolve("cluster"));
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

    @Test
    void aRealCriuDumpComesBackByteForByte() throws Exception {
        Optional<Path> archive = Corpus.archive();
        Assumptions.assumeTrue(archive.isPresent(),
                "skipped: the shared CRIU corpus (" + Corpus.ARCHIVE + ") is not on this machine");
        Path dump = Corpus.unpack(archive.get(), "sim/dump-1", dir.resolve("corpus"));

        PutResult put = client.put("corpus/sim/dump-1", dump);
        assertTrue(put.commitIndex() > 0);
        assertTrue(put.logicalBytes() > 1_000_000, "the dump holds megabytes of pages");
        assertTrue(put.newChunks() > 0);

        Path restored = dir.resolve("restored-sim");
        GetResult got = client.get("corpus/sim/dump-1", restored);
        assertEquals(put.logicalBytes(), got.logicalBytes());
        Trees.assertSameTree(dump, restored);

        // The same bytes under a second name: every chunk is already on a write quorum.
        PutResult again = client.put("corpus/sim/dump-1-again", dump);
        System.out.println("re-put of sim/dump-1: sent " + again.sentBytes() + " of " + again.logicalBytes() + " bytes");
        assertEquals(0, again.newChunks());
        // Nothing was compressed for the re-put, yet it accounts the same stored size (from the nodes' answers).
        assertEquals(put.storedBytes(), again.storedBytes());
        assertTrue(again.sentBytes() < put.logicalBytes() / 100, "a re-put sends almost nothing: " + again.sentBytes());
    }

    @Test
    void aRandomStreamComesBackByteForByte() {
        byte[] data = new byte[5 * 1024 * 1024 + 123];
        new Random(42).nextBytes(data);
        // A repeated region, so the stream also dedups against itself.
        System.arraycopy(data, 0, data, 3 * 1024 * 1024, 1024 * 1024);
        client.put("streams/random", new ByteArrayInputStream(data));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GetResult got = client.get("streams/random", out);
        assertEquals(data.length, got.logicalBytes());
        assertArrayEquals(data, out.toByteArray());
    }

    @Test
    void aDirectoryKeepsFilesSymlinksModesAndEmptyEntries() throws Exception {
        Path src = dir.resolve("tree");
        Files.createDirectories(src.resolve("a/b/empty-dir"));
        Files.write(src.resolve("a/b/file.bin"), new byte[200_000]);
        Files.write(src.resolve("empty-file"), new byte[0]);
        Files.writeString(src.resolve("script.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(src.resolve("script.sh"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.createSymbolicLink(src.resolve("parent"), Path.of("../dump-0"));
        Files.setPosixFilePermissions(src.resolve("a/b"), PosixFilePermissions.fromString("r-xr-xr-x"));

        // A top-level 'parent' link is CRIU's lineage: it must name a stored image (docs/criu.md, Lineage).
        client.put("trees/dump-0", new ByteArrayInputStream(new byte[] {0}));
        client.put("trees/one", src);
        Path restored = dir.resolve("tree-restored");
        client.get("trees/one", restored);
        Trees.assertSameTree(src, restored);
    }

    @Test
    void listAndStatDescribeCommittedImages() {
        client.put("listing/x/1", new ByteArrayInputStream(new byte[10]));
        client.put("listing/x/2", new ByteArrayInputStream(new byte[20]));
        client.put("listing/y/1", new ByteArrayInputStream(new byte[30]));

        List<String> names = client.list("listing/x/").stream().map(i -> i.name().value()).toList();
        assertEquals(List.of("listing/x/1", "listing/x/2"), names);
        ImageInfo info = client.stat("listing/y/1");
        assertEquals(30, info.root().logicalBytes());
        assertEquals(1, info.root().fileCount());
        assertTrue(info.commitIndex() > 0);
    }

    @Test
    void aDeletedImageIsGoneWithAClearError() {
        client.put("doomed", new ByteArrayInputStream(new byte[] {1, 2, 3}));
        client.delete("doomed");
        CairnException.ImageNotFound e = assertThrows(CairnException.ImageNotFound.class,
                () -> client.get("doomed", new ByteArrayOutputStream()));
        assertTrue(e.getMessage().contains("doomed"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.delete("doomed"));
    }

    @Test
    void imagesAreImmutable() {
        client.put("immutable", new ByteArrayInputStream(new byte[] {1}));
        assertThrows(CairnException.ImageExists.class, () -> client.put("immutable", new ByteArrayInputStream(new byte[] {2})));
    }

    @Test
    void badNamesAreRefusedBeforeAnythingIsSent() {
        CairnException.InvalidName e = assertThrows(CairnException.InvalidName.class,
                () -> client.put("../escape", new ByteArrayInputStream(new byte[1])));
        assertTrue(e.getMessage().contains(".."), e.getMessage());
        assertThrows(CairnException.InvalidName.class, () -> client.stat("a//b"));
    }

    @Test
    void aRestoreRefusesANonEmptyDestination() throws Exception {
        client.put("restore/target", new ByteArrayInputStream(new byte[100]));
        Path dest = Files.createDirectories(dir.resolve("occupied"));
        Files.writeString(dest.resolve("keep.txt"), "mine");
        CairnException.LocalIo e = assertThrows(CairnException.LocalIo.class, () -> client.get("restore/target", dest));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertEquals("mine", Files.readString(dest.resolve("keep.txt")));
    }

    @Test
    void anUnreachableClusterSaysSo() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        CairnException.ClusterUnreachable e = assertThrows(CairnException.ClusterUnreachable.class,
                () -> CairnClient.connect(ClientConfig.parse("127.0.0.1:" + closedPort)));
        assertTrue(e.getMessage().contains("unreachable"), e.getMessage());
    }

    @Test
    void randomTreesRoundTripByteExactThroughPutGetAndTar() throws Exception {
        long seed = Long.getLong("cairn.seed", new Random().nextLong());
        System.out.println("randomTreesRoundTripByteExactThroughPutGetAndTar seed " + seed + " (rerun with -Dcairn.seed=" + seed + ")");
        Random random = new Random(seed);
        for (int round = 0; round < 4; round++) {
            Path src = RandomTrees.create(dir.resolve("random-" + round), random);
            String name = "random/" + round;
            client.put(name, src);
            Path restored = dir.resolve("random-" + round + "-restored");
            client.get(name, restored);
            Trees.assertSameTree(src, restored);

            // Out as a tar, in again from the tar, out into a directory: still the same tree.
            ByteArrayOutputStream tar = new ByteArrayOutputStream();
            client.getTar(name, tar);
            PutResult again = client.putTar(name + "-tar", new ByteArrayInputStream(tar.toByteArray()));
            // The same entries, modes and bytes make the same manifest: nothing new to store.
            assertEquals(0, again.newChunks(), "seed " + seed + ": the image from the tar differs from the original");
            Path fromTar = dir.resolve("random-" + round + "-from-tar");
            client.get(name + "-tar", fromTar);
            Trees.assertSameTree(src, fromTar);
        }
    }

    @Test
    void aTarThatWouldEscapeIsRefusedAndNothingIsCommitted() throws Exception {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        dev.cairn.engine.image.TarWriter w = new dev.cairn.engine.image.TarWriter(tar, 0);
        w.symlink("link", "/etc");
        w.file("link/passwd", 0644, 1);
        w.write(new byte[] {'x'}, 0, 1);
        w.finish();
        CairnException.LocalIo e = assertThrows(CairnException.LocalIo.class,
                () -> client.putTar("hostile/tar", new ByteArrayInputStream(tar.toByteArray())));
        assertTrue(e.getMessage().contains("link/passwd") && e.getMessage().contains("symlink"), e.getMessage());
        assertThrows(CairnException.ImageNotFound.class, () -> client.stat("hostile/tar"));
    }

    @Test
    void aHostileManifestIsRefusedOnRestoreAndNothingLandsOutside() throws Exception {
        // A manifest no put makes: a file below a symlink that points out of the destination.
        Path outside = Files.createDirectories(dir.resolve("outside"));
        dev.cairn.engine.ChunkData data = dev.cairn.engine.ChunkData.raw(new byte[] {'x'});
        dev.cairn.engine.manifest.Manifest hostile = new dev.cairn.engine.manifest.Manifest(List.of(
                dev.cairn.engine.manifest.FileEntry.symlink("link", outside.toString()),
                new dev.cairn.engine.manifest.FileEntry("link/planted", dev.cairn.engine.manifest.FileType.REGULAR, 0644, 1, "",
                        List.of(new dev.cairn.engine.manifest.ChunkRef(data.id(), 1)))));
        dev.cairn.engine.manifest.ManifestTree.Built tree = dev.cairn.engine.manifest.ManifestTree.build(
                dev.cairn.engine.manifest.ManifestCodec.encode(hostile));
        // Stored through the chunk-level API on every node, then committed with a raw frame.
        java.util.List<dev.cairn.engine.ChunkData> chunks = new java.util.ArrayList<>(tree.chunks());
        chunks.add(data);
        try (dev.cairn.client.ChunkPeers peers = dev.cairn.client.ChunkPeers.connect(ClientConfig.parse(cluster.endpoints()))) {
            for (String node : peers.placement().nodeIds()) {
                peers.put(node, chunks).get();
            }
        }
        dev.cairn.engine.manifest.ImageRoot root = new dev.cairn.engine.manifest.ImageRoot(tree.rootId(), 1, 0, 2, 1, 0);
        ExactlyOnceTest.call(cluster.config(0).self(), dev.cairn.protocol.MessageType.COMMIT_IMAGE,
                new dev.cairn.protocol.ImageMessages.CommitImage(new dev.cairn.engine.ImageName("hostile/manifest"), root).encode());

        CairnException.CorruptData e = assertThrows(CairnException.CorruptData.class,
                () -> client.get("hostile/manifest", dir.resolve("hostile-restore")));
        assertTrue(e.getMessage().contains("link/planted"), e.getMessage());
        assertThrows(CairnException.CorruptData.class, () -> client.getTar("hostile/manifest", new ByteArrayOutputStream()));
        assertFalse(Files.exists(outside.resolve("planted")), "nothing was written through the symlink");
    }
}
