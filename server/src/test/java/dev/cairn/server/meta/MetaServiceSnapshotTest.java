package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static dev.cairn.server.meta.MetaServiceTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogImageMessages.ListImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaServiceSnapshotTest {

    /** A snapshot every 20 entries, 8 KB segments (about 40 entries), purges of at least 10 entries. */
    static final MetaService.Tuning SMALL = new MetaService.Tuning(20, SizeInBytes.valueOf("8KB"), 10, 200_000);
    private static final int COMMITS = 80;

    @TempDir
    Path dir;

    @Test
    void aNodeThatMissedAPurgedLogCatchesUpBySnapshotInstall() throws Exception {
        try (MetaCluster cluster = new MetaCluster(dir, 3, SMALL)) {
            cluster.startAll();
            int leader = cluster.leader();
            assertTrue(leader >= 0, "no leader");
            int lagging = (leader + 1) % 3;
            get(cluster.node(leader).commitImage(new ImageName("snap/before"), root("before")));
            cluster.stop(lagging);

            long lastIndex = 0;
            for (int i = 0; i < COMMITS; i++) {
                lastIndex = get(cluster.node(leader).commitImage(new ImageName(name(i)), root("r" + i)));
            }
            MetaService leaderNode = cluster.node(leader);
            SnapshotInfo snapshot = leaderNode.stateMachine().getLatestSnapshot();
            assertNotNull(snapshot, "the leader took no snapshot after " + COMMITS + " commits");
            awaitTrue(() -> leaderNode.logStartIndex() > 20, "the leader did not purge its log");
            Path snapshotDir = leaderNode.stateMachine().getStateMachineStorage().latestDir();
            long bytes = 0;
            for (Path f : CatalogSnapshots.files(snapshotDir)) {
                bytes += Files.size(f);
            }
            System.out.printf("leader snapshot %s: %d files, %d bytes; log starts at %d%n", snapshot.getTermIndex(),
                    CatalogSnapshots.files(snapshotDir).size(), bytes, leaderNode.logStartIndex());

            long startNanos = System.nanoTime();
            cluster.start(lagging);
            MetaService restarted = cluster.node(lagging);
            long target = lastIndex;
            awaitTrue(() -> restarted.status().appliedIndex() >= target, "the restarted node did not catch up");
            System.out.printf("restarted node caught up to index %d in %d ms%n", target,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));

            CatalogStateMachine sm = restarted.stateMachine();
            assertTrue(sm.snapshotsLoaded() >= 1, "the restarted node did not load a snapshot");
            List<String> local = localList(sm, "snap/");
            assertEquals(COMMITS + 1, local.size(), "the restarted node's own catalog is incomplete");
            assertTrue(local.contains("snap/before"));
            assertEquals(IntStream.range(0, COMMITS).mapToObj(MetaServiceSnapshotTest::name).toList(),
                    local.stream().filter(n -> !n.equals("snap/before")).toList());

            // It applies new entries on top of the installed snapshot.
            long after = get(cluster.node(leader).commitImage(new ImageName("snap/after"), root("after")));
            awaitTrue(() -> restarted.status().appliedIndex() >= after, "the restarted node did not apply a new entry");
            assertTrue(localList(sm, "snap/after").contains("snap/after"));
        }
    }

    private static String name(int i) {
        return String.format("snap/%04d", i);
    }

    static List<String> localList(CatalogStateMachine sm, String prefix) throws Exception {
        Message q = Message.valueOf(ByteString.copyFrom(CatalogMessages.encode(new ListImages(prefix, CatalogMessages.MAX_LIST_LIMIT))));
        Reply reply = CatalogReplyCodec.decodeReply(sm.query(q).get(10, TimeUnit.SECONDS).getContent().asReadOnlyByteBuffer());
        return reply.images().stream().map(ImageInfo::name).map(ImageName::value).toList();
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /**
     * Polls for at most 60 s. Since Raft moved to ratis-grpc, a restarted node catches up by
     * snapshot in under 1.5 s about half the time and in 25-26 s otherwise (both seen on a quiet
     * machine, before and after the metadata classes were split), so 30 s failed under load.
     * Why the slow case waits ~25 s is an open item of docs/metadata.md.
     */
    static void awaitTrue(Condition c, String message) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!c.holds()) {
            assertTrue(System.nanoTime() < deadline, message + " within 60s");
            Thread.sleep(20);
        }
    }
}
