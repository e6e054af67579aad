package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnAdmin;
import dev.cairn.client.CairnClient;
import dev.cairn.client.GcReport;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GC cannot be driven from outside the cluster's decision (issue 23): a process that reaches a
 * node's protocol port and sends GC_ARM / GC_SWEEP frames the catalog did not decide gets them
 * refused, and every image still reads back; the cluster's own {@code gc} still frees garbage.
 */
class GcOutsideDecisionTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void armAndSweepFramesTheCatalogDidNotDecideAreRefusedAndDestroyNothing() throws Exception {
        byte[] a = TestImages.random(11, 1024 * 1024);
        byte[] b = TestImages.random(12, 1024 * 1024);
        try (TestCluster cluster = TestCluster.start(3, dir); CairnClient client = cluster.client()) {
            client.put("a", new ByteArrayInputStream(a));
            client.put("b", new ByteArrayInputStream(b));
            long e = cluster.server(0).meta().gcEpoch();
            long chunksBefore = cluster.server(0).store().chunkCount();

            try (RawConnection raw = new RawConnection(cluster.config(0).self())) {
                // An epoch jump: the catalog has not even begun e + 1.
                assertRefused(raw, 1, MessageType.GC_ARM, e + 2, "GC_ARM(" + (e + 2) + ")");
                // Arming the next epoch is what a coordinator does before it begins it; on its own it
                // changes only the epoch new marks carry, never what is stored.
                Frame armed = call(raw, 2, MessageType.GC_ARM, e + 1);
                assertEquals(MessageType.GC_ARM, armed.type(), "the arm of the next epoch, e + 1 = " + (e + 1));
                // The sweep the catalog never began nor cleared: before the fix, it tombstoned every chunk.
                assertRefused(raw, 3, MessageType.GC_SWEEP, e + 1, "GC_SWEEP(" + (e + 1) + ")");
            }
            assertEquals(chunksBefore, cluster.server(0).store().chunkCount(), "chunks on node-1 after the frames");
            assertArrayEquals(a, TestImages.read(client, "a"));
            assertArrayEquals(b, TestImages.read(client, "b"));

            // The cluster's own GC still runs the epoch the raw arm named, and frees what only a had.
            client.delete("a");
            GcReport report = CairnAdmin.of(client).gc(WAIT);
            assertTrue(report.completed(), report.abandonedBecause() + " " + report.log());
            assertTrue(report.freedChunks() > 0, report.log().toString());
            assertArrayEquals(b, TestImages.read(client, "b"));
            long swept = cluster.server(0).meta().gcEpoch();
            assertEquals(e + 1, swept);

            try (RawConnection raw = new RawConnection(cluster.config(0).self())) {
                long chunks = cluster.server(0).store().chunkCount();
                // The epoch just swept, once more: it was cleared once, for one sweep.
                assertRefused(raw, 4, MessageType.GC_SWEEP, swept, "a second GC_SWEEP(" + swept + ")");
                // Re-arming an epoch the catalog has begun, or one past the next.
                assertRefused(raw, 5, MessageType.GC_ARM, swept, "GC_ARM(" + swept + ") of a begun epoch");
                assertRefused(raw, 6, MessageType.GC_ARM, swept + 2, "GC_ARM(" + (swept + 2) + ")");
                assertEquals(chunks, cluster.server(0).store().chunkCount(), "chunks on node-1 after the frames");
            }
            assertArrayEquals(b, TestImages.read(client, "b"));

            // And the next epoch runs as before.
            GcReport next = CairnAdmin.of(client).gc(WAIT);
            assertTrue(next.completed(), next.abandonedBecause() + " " + next.log());
            assertArrayEquals(b, TestImages.read(client, "b"));
        }
    }

    private static Frame call(RawConnection raw, int requestId, MessageType type, long epoch) throws IOException {
        raw.send(Frame.request(type, requestId, GcMessages.encodeEpoch(epoch), null));
        Frame answer = raw.read();
        assertEquals(requestId, answer.requestId());
        return answer;
    }

    private static void assertRefused(RawConnection raw, int requestId, MessageType type, long epoch, String what)
            throws IOException {
        Frame answer = call(raw, requestId, type, epoch);
        assertEquals(MessageType.ERROR, answer.type(), what + " was accepted");
        Messages.Error error = Messages.Error.decode(answer.header());
        assertEquals(ErrorCode.BAD_REQUEST, error.code(), error.message());
        assertTrue(error.message().contains("catalog"), what + ": " + error.message());
        System.out.println(what + " refused: " + error.message());
    }
}
