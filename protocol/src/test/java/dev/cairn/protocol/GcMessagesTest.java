package dev.cairn.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class GcMessagesTest {

    @Test
    void aRunRequestWithOrWithoutARunIdRoundTrips() {
        GcMessages.Run run = new GcMessages.Run(2_100_000, new UUID(3, 4));
        assertEquals(run, GcMessages.Run.decode(run.encode()));
        // An older client sends the wait alone.
        GcMessages.Run old = GcMessages.Run.decode(GcMessages.encodeRun(5000));
        assertEquals(5000, old.maxSessionWaitMillis());
        assertNull(old.runId());
        assertThrows(ProtocolException.class, () -> GcMessages.Run.decode(ByteBuffer.allocate(8).putLong(-1).flip()));
    }

    @Test
    void aRenewSessionRequestRoundTripsAndRefusesTrailingBytes() {
        GcMessages.RenewSession renew = new GcMessages.RenewSession(new UUID(7, 8), 60_000);
        ByteBuffer bytes = renew.encode();
        assertEquals(24, bytes.remaining());
        assertEquals(renew, GcMessages.RenewSession.decode(bytes));
        ByteBuffer longer = ByteBuffer.allocate(25).put(renew.encode()).put((byte) 0).flip();
        assertThrows(ProtocolException.class, () -> GcMessages.RenewSession.decode(longer));
        assertThrows(ProtocolException.class, () -> GcMessages.RenewSession.decode(ByteBuffer.allocate(16)));
    }

    @Test
    void statusRequestAndProgressRoundTrip() {
        GcMessages.StatusRequest request = new GcMessages.StatusRequest(new UUID(5, 6), 3);
        assertEquals(request, GcMessages.StatusRequest.decode(request.encode()));
        GcMessages.Progress progress = new GcMessages.Progress(GcMessages.RunState.RUNNING, 12, 3,
                List.of("[   0.1s] epoch 12 began at log index 40", "[   0.2s] marking the chunks of 7 images live"));
        assertEquals(progress, GcMessages.Progress.decode(progress.encode()));
        GcMessages.Progress queued = new GcMessages.Progress(GcMessages.RunState.QUEUED, 0, 0, List.of());
        assertEquals(queued, GcMessages.Progress.decode(queued.encode()));
        ByteBuffer badState = queued.encode();
        badState.put(0, (byte) 9);
        assertThrows(ProtocolException.class, () -> GcMessages.Progress.decode(badState));
    }
}
