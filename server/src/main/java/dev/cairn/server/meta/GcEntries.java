package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogStore.GcPhase;
import dev.cairn.server.meta.CatalogStore.GcState;
import dev.cairn.server.meta.CatalogStore.Session;
import dev.cairn.server.meta.CatalogGcMessages.BeginGcEpoch;
import dev.cairn.server.meta.CatalogGcMessages.GcMaySweep;
import java.io.IOException;
import org.rocksdb.RocksDBException;

/** Applies the GC epoch entries: BEGIN_GC_EPOCH and GC_MAY_SWEEP. */
final class GcEntries {

    private GcEntries() {}

    static Reply begin(BeginGcEpoch b, Applying at) throws IOException, RocksDBException {
        GcState gc = at.store().gcState();
        if (b.epoch() != gc.epoch() + 1) {
            return Reply.refused(Status.INVALID, "GC epoch " + b.epoch() + " is not the next epoch; the current one is "
                    + gc.epoch() + " (" + gc.phase() + ")");
        }
        at.batch().putGcState(new GcState(b.epoch(), GcPhase.MARKING, at.index()));
        return Reply.ok(at.index());
    }

    /** {@code now} is the entry's log time, by which the leases of blocking sessions are judged. */
    static Reply maySweep(GcMaySweep m, long now, Applying at) throws IOException, RocksDBException {
        GcState gc = at.store().gcState();
        if (gc.epoch() != m.epoch() || gc.phase() == GcPhase.NONE) {
            return Reply.refused(Status.INVALID, "GC epoch " + m.epoch() + " is not the current epoch (" + gc.epoch() + ")");
        }
        if (gc.phase() == GcPhase.SWEEPING) {
            return Reply.ok(at.index()); // already allowed
        }
        // Sessions opened before the epoch began may have written chunks the mark did not see;
        // sweeping must wait until each has closed or its lease has ended. Expired ones go now.
        long blocking = 0;
        long firstExpiry = Long.MAX_VALUE;
        for (Session s : at.store().sessions()) {
            if (s.leaseExpiryMillis() <= now) {
                at.batch().deleteSession(s.sessionId());
            } else if (s.openedAtIndex() < gc.begunAtIndex()) {
                blocking++;
                firstExpiry = Math.min(firstExpiry, s.leaseExpiryMillis());
            }
        }
        if (blocking > 0) {
            return Reply.refused(Status.BUSY, blocking + " upload session(s) opened before GC epoch " + m.epoch()
                    + " began are still leased; the first lease ends in " + (firstExpiry - now)
                    + " ms of log time; retry after that or when they close");
        }
        at.batch().putGcState(new GcState(gc.epoch(), GcPhase.SWEEPING, gc.begunAtIndex()));
        return Reply.ok(at.index());
    }
}
