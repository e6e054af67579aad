package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogStore.GcState;
import dev.cairn.server.meta.CatalogImageMessages.CommitImage;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import java.io.IOException;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/** Applies the image entries: COMMIT_IMAGE and DELETE_IMAGE, and the commit step of a session's commit. */
final class ImageEntries {

    private ImageEntries() {}

    /**
     * Without a session, a commit is safe only while no GC epoch has ever begun: before the first
     * epoch nothing was swept. After it, its chunks may have been uploaded before a sweep that did
     * not see them.
     */
    static Reply commitWithoutSession(CommitImage c, Applying at) throws IOException, RocksDBException {
        GcState gc = at.store().gcState();
        if (gc.epoch() >= 1) {
            return Reply.refused(Status.INVALID, "a commit without an upload session is refused once garbage"
                    + " collection has run (epoch " + gc.epoch() + "); upgrade the client, it opens a session per put");
        }
        return commit(c.name(), c.root(), c.parent(), at);
    }

    /**
     * Records a new image at this entry's index; images are immutable, so an existing name is
     * refused. An image with a parent is refused unless the parent is stored: checked here, in
     * apply, so a parent cannot be deleted between a put's own check and its commit.
     */
    static Reply commit(ImageName name, ImageRoot root, ImageName parent, Applying at)
            throws IOException, RocksDBException {
        Optional<ImageInfo> existing = at.store().get(name);
        if (existing.isPresent()) {
            return Reply.refused(Status.EXISTS, "image " + name + " already exists (committed at index "
                    + existing.get().commitIndex() + "); images are immutable, choose a new name");
        }
        if (parent != null && at.store().get(parent).isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, missingParent(name, parent));
        }
        // The quotas over the name are checked and counted here, in apply, so every replica agrees.
        Optional<Reply> overQuota = QuotaEntries.charge(name, root.logicalBytes(), at);
        if (overQuota.isPresent()) {
            return overQuota.get();
        }
        at.batch().putImage(name, root, at.index(), parent);
        return Reply.ok(at.index());
    }

    /** Why a child cannot be committed: its parent is not stored. */
    static String missingParent(ImageName child, ImageName parent) {
        return "the parent of image " + child + ", image " + parent + ", is not stored; put " + parent
                + " first, or name the image it was dumped on with --parent; nothing was stored";
    }

    static Reply delete(DeleteImage d, Applying at) throws IOException, RocksDBException {
        Optional<ImageInfo> existing = at.store().get(d.name());
        if (existing.isEmpty()) {
            return Reply.refused(Status.NOT_FOUND, "image " + d.name() + " does not exist");
        }
        // Lineage: a child's in-parent pages live in its parent, so the parent stays while it does.
        Optional<ImageName> child = at.store().firstChild(d.name());
        if (child.isPresent()) {
            return Reply.refused(Status.IN_USE, "image " + d.name() + " is the parent of image " + child.get()
                    + " (an incremental dump on top of it); remove " + child.get()
                    + " first, or store a flattened copy of it (cairn get --flatten, then cairn put) and remove"
                    + " the original; nothing was removed");
        }
        QuotaEntries.credit(d.name(), existing.get().root().logicalBytes(), at);
        at.batch().deleteImage(d.name(), existing.get().parent());
        return Reply.ok(at.index());
    }
}
