package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogMessages.Stamped;
import dev.cairn.server.meta.CatalogMessages.Type;

/**
 * The GC epoch requests of the catalog: begin an epoch, allow its sweep. Their byte format is in
 * {@link CatalogMessages}, with every other request's.
 */
final class CatalogGcMessages {

    private CatalogGcMessages() {}

    /** Starts GC epoch {@code epoch}, which must be the current epoch + 1. */
    record BeginGcEpoch(long epoch, long leaderMillis) implements Stamped {
        BeginGcEpoch {
            if (epoch < 1) {
                throw new IllegalArgumentException("GC epoch " + epoch + " is not positive");
            }
        }

        @Override
        public Type type() {
            return Type.BEGIN_GC_EPOCH;
        }

        @Override
        public BeginGcEpoch stamped(long millis) {
            return new BeginGcEpoch(epoch, millis);
        }
    }

    /** Allows the nodes to sweep epoch {@code epoch}: applied only when no session from before it is still leased. */
    record GcMaySweep(long epoch, long leaderMillis) implements Stamped {
        GcMaySweep {
            if (epoch < 1) {
                throw new IllegalArgumentException("GC epoch " + epoch + " is not positive");
            }
        }

        @Override
        public Type type() {
            return Type.GC_MAY_SWEEP;
        }

        @Override
        public GcMaySweep stamped(long millis) {
            return new GcMaySweep(epoch, millis);
        }
    }
}
