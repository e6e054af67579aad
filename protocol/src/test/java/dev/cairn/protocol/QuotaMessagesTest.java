package dev.cairn.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuotaMessagesTest {

    @Test
    void setAndListSurviveARoundTrip() {
        QuotaMessages.SetQuota set = new QuotaMessages.SetQuota("team-a/", 500L << 30);
        assertEquals(set, QuotaMessages.SetQuota.decode(set.encode()));
        QuotaMessages.QuotaList list = new QuotaMessages.QuotaList(List.of(
                new QuotaMessages.QuotaInfo("a/", 0, 1), new QuotaMessages.QuotaInfo("b/c/", 12_000, 10_000)));
        assertEquals(list, QuotaMessages.QuotaList.decode(list.encode()));
    }

    @Test
    void aPrefixWithoutItsSlashOrAQuotaUnderOneByteIsRefusedOnTheWire() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> QuotaMessages.SetQuota.decode(new WireWriter(16).string("team-a").i64(5).toBuffer()));
        assertTrue(e.getMessage().contains("must end with /"), e.getMessage());
        e = assertThrows(ProtocolException.class,
                () -> QuotaMessages.SetQuota.decode(new WireWriter(16).string("team-a/").i64(0).toBuffer()));
        assertTrue(e.getMessage().contains("at least 1 byte"), e.getMessage());
        assertThrows(ProtocolException.class, () -> QuotaMessages.SetQuota.decode(
                new WireWriter(16).string("t/").i64(5).u8(0).toBuffer()), "trailing bytes");
    }

    @Test
    void aForgedListCountIsRefusedBeforeAnythingIsAllocated() {
        ByteBuffer forged = new WireWriter(8).i32(Integer.MAX_VALUE).toBuffer();
        assertThrows(ProtocolException.class, () -> QuotaMessages.QuotaList.decode(forged));
    }
}
