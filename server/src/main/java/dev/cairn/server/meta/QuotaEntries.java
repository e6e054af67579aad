package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogQuotaMessages.RemoveQuota;
import dev.cairn.server.meta.CatalogQuotaMessages.SetQuota;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/**
 * Applies the quota entries (set, remove) and keeps every quota's count of logical bytes in step
 * with the commits and deletes under its prefix, in the same batch as the image change.
 *
 * <p>What counts is an image's logical size as its root records it, whoever committed it: stored
 * bytes cannot be split among tenants, since a chunk is stored once for everyone who has it.
 */
final class QuotaEntries {

    private QuotaEntries() {}

    static Reply set(SetQuota s, Applying at) throws IOException, RocksDBException {
        QuotaTable quotas = at.store().quotas();
        Optional<StoredQuota> existing = quotas.get(s.prefix());
        // A new quota counts what is already there (a scan, once); an existing count is kept up to date by commits.
        long used = existing.isPresent() ? existing.get().usedBytes() : quotas.logicalBytesUnder(s.prefix());
        at.batch().putQuota(new StoredQuota(s.prefix(), s.maxBytes(), used));
        return Reply.ok(at.index());
    }

    static Reply remove(RemoveQuota r, Applying at) throws IOException, RocksDBException {
        if (at.store().quotas().get(r.prefix()).isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, "there is no quota on " + r.prefix() + "; cairn admin quota ls lists them");
        }
        at.batch().deleteQuota(r.prefix());
        return Reply.ok(at.index());
    }

    /**
     * Counts a new image of {@code bytes} against every quota over {@code name}; when it would
     * take one over its maximum, changes nothing and returns the refusal (naming the outermost).
     */
    static Optional<Reply> charge(ImageName name, long bytes, Applying at) throws IOException, RocksDBException {
        List<StoredQuota> over = at.store().quotas().covering(name);
        for (StoredQuota q : over) {
            if (!q.fits(bytes)) {
                return Optional.of(Reply.refused(Status.QUOTA_EXCEEDED, refusal(name, bytes, q)));
            }
        }
        for (StoredQuota q : over) {
            at.batch().putQuota(q.withUsed(q.usedBytes() + bytes)); // fits, so no overflow
        }
        return Optional.empty();
    }

    /** Gives back the {@code bytes} of a deleted image to every quota over {@code name}. */
    static void credit(ImageName name, long bytes, Applying at) throws IOException, RocksDBException {
        for (StoredQuota q : at.store().quotas().covering(name)) {
            at.batch().putQuota(q.withUsed(Math.max(0, q.usedBytes() - bytes)));
        }
    }

    private static String refusal(ImageName name, long bytes, StoredQuota q) {
        return "quota exceeded: image " + name + " (" + bytes + " bytes) does not fit in the quota of " + q.prefix()
                + ", which holds " + q.usedBytes() + " of its " + q.maxBytes() + " bytes; nothing was committed."
                + " Remove images under " + q.prefix() + " (cairn rm), or ask an admin to raise the quota"
                + " (cairn admin quota set " + q.prefix() + " --max-bytes B)";
    }
}
