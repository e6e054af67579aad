package dev.cairn.server.meta;

import static dev.cairn.server.meta.MetaCluster.root;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.server.meta.CatalogImageMessages.CommitImage;
import dev.cairn.server.meta.CatalogImageMessages.DeleteImage;
import dev.cairn.server.meta.CatalogMessages.Call;
import dev.cairn.server.meta.CatalogMessages.Reply;
import dev.cairn.server.meta.CatalogMessages.Request;
import dev.cairn.server.meta.CatalogMessages.Status;
import dev.cairn.server.meta.CatalogSessionMessages.CommitInSession;
import dev.cairn.server.meta.CatalogSessionMessages.OpenSession;
import dev.cairn.server.meta.CatalogStore.Applied;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

/** Lineage in the catalog (format version 9): a child names its parent, and the parent stays while it does. */
class LineageCatalogTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final ImageName CKPT1 = new ImageName("job/ckpt-1");
    private static final ImageName CKPT2 = new ImageName("job/ckpt-2");
    private static final ImageName CKPT3 = new ImageName("job/ckpt-3");

    @TempDir
    Path dir;

    private long index;

    @Test
    void aChildRecordsItsParentAndTheParentCannotBeRemovedWhileAChildNeedsIt() throws Exception {
        UUID session = UUID.randomUUID();
        CatalogApply entries = new CatalogApply(200_000);
        try (CatalogStore store = CatalogStore.open(dir)) {
            apply(entries, store, new OpenSession(session, UUID.randomUUID(), 60_000, T0));
            assertEquals(Status.OK, apply(entries, store, commit(CKPT1, session, null)).status());
            assertEquals(Status.OK, apply(entries, store, commit(CKPT2, session, CKPT1)).status());
            assertEquals(Status.OK, apply(entries, store, commit(CKPT3, session, CKPT2)).status());
            assertEquals(CKPT1, store.get(CKPT2).orElseThrow().parent());
            assertEquals(CKPT2, store.get(CKPT3).orElseThrow().parent());
            assertNull(store.get(CKPT1).orElseThrow().parent());

            Reply refused = apply(entries, store, new DeleteImage(CKPT1));
            assertEquals(Status.IN_USE, refused.status());
            assertTrue(refused.message().contains("parent of image job/ckpt-2"), refused.message());
            assertTrue(refused.message().contains("remove job/ckpt-2 first"), refused.message());
            assertTrue(store.get(CKPT1).isPresent(), "nothing was removed");
            assertEquals(Status.IN_USE, apply(entries, store, new DeleteImage(CKPT2)).status());

            // Children first, then the parent: each delete also forgets the child's lineage entry.
            assertEquals(Status.OK, apply(entries, store, new DeleteImage(CKPT3)).status());
            assertEquals(Status.OK, apply(entries, store, new DeleteImage(CKPT2)).status());
            assertEquals(Optional.empty(), store.firstChild(CKPT1));
            assertEquals(Status.OK, apply(entries, store, new DeleteImage(CKPT1)).status());
        }
    }

    @Test
    void aChildWhoseParentIsNotStoredIsRefusedAndNothingIsStored() throws Exception {
        UUID session = UUID.randomUUID();
        CatalogApply entries = new CatalogApply(200_000);
        try (CatalogStore store = CatalogStore.open(dir)) {
            apply(entries, store, new OpenSession(session, UUID.randomUUID(), 60_000, T0));
            Reply refused = apply(entries, store, commit(CKPT2, session, CKPT1));
            assertEquals(Status.NOT_FOUND, refused.status());
            assertTrue(refused.message().contains("put job/ckpt-1 first"), refused.message());
            assertTrue(refused.message().contains("--parent"), refused.message());
            assertEquals(Optional.empty(), store.get(CKPT2));
            assertTrue(store.session(session).isPresent(), "a refused commit leaves the session open");
            assertEquals(Optional.empty(), store.firstChild(CKPT1));
        }
    }

    @Test
    void aParentTravelsInAVersion9WrapperAndACommitWithoutOneKeepsItsOldBytes() {
        UUID session = UUID.randomUUID();
        CommitInSession plain = new CommitInSession(CKPT2, root("b"), session, T0, true);
        byte[] plainBytes = CatalogMessages.encode(plain);
        assertEquals(6, plainBytes[0], "a commit without a parent is written as before, at its own version");

        Call child = new Call(UUID.randomUUID(), 7, new CommitInSession(CKPT2, root("b"), session, T0, true, CKPT1));
        Request decoded = CatalogMessages.decodeRequest(ByteBuffer.wrap(CatalogMessages.encode(child)));
        assertEquals(child, decoded);
        CommitInSession inner = (CommitInSession) ((Call) decoded).write();
        assertEquals(CKPT1, inner.parent());
        assertEquals(inner, inner.stamped(T0 + 5).stamped(T0), "stamping keeps the parent");

        byte[] wrapped = CatalogMessages.encode(new CommitImage(CKPT2, root("b"), CKPT1));
        assertEquals(9, wrapped[0]);
        assertEquals(21, wrapped[1]);
        assertEquals(new CommitImage(CKPT2, root("b"), CKPT1), CatalogMessages.decodeRequest(ByteBuffer.wrap(wrapped)));
    }

    @Test
    void repliesAndStoredValuesCarryTheParentOnlyWhenThereIsOne() {
        ImageInfo plain = new ImageInfo(CKPT1, root("a"), 10);
        ImageInfo child = new ImageInfo(CKPT2, root("b"), 11, CKPT1);
        byte[] plainReply = CatalogReplyCodec.encode(Reply.images(List.of(plain)));
        assertEquals(1, plainReply[0], "a reply without lineage keeps version 1");
        Reply both = Reply.images(List.of(plain, child));
        assertEquals(both, CatalogReplyCodec.decodeReply(ByteBuffer.wrap(CatalogReplyCodec.encode(both))));

        assertEquals(1, CatalogReplyCodec.encodeEntry(10, root("a"))[0]);
        byte[] stored = CatalogReplyCodec.encodeEntry(11, root("b"), CKPT1);
        assertEquals(2, stored[0]);
        assertEquals(child, CatalogReplyCodec.decodeEntry(CKPT2, stored));
    }

    /**
     * A catalog written by the build before lineage: its nine column families (no {@code
     * children}) and version-1 image values. It opens, its images read as before, and a child can
     * be committed on top of one of them.
     */
    @Test
    void aCatalogOfTheBuildBeforeLineageStillLoads() throws Exception {
        ImageRoot oldRoot = root("old");
        byte[] oldValue = ByteBuffer.allocate(1 + 8 + ImageRoot.ENCODED_LENGTH).put((byte) 1).putLong(42)
                .put(oldRoot.encode()).array();
        writeOldCatalog(dir, CKPT1, oldValue);

        UUID session = UUID.randomUUID();
        CatalogApply entries = new CatalogApply(200_000);
        index = 100;
        try (CatalogStore store = CatalogStore.open(dir)) {
            assertEquals(new ImageInfo(CKPT1, oldRoot, 42), store.get(CKPT1).orElseThrow());
            assertEquals(List.of(new ImageInfo(CKPT1, oldRoot, 42)), store.list("job/", 10));
            apply(entries, store, new OpenSession(session, UUID.randomUUID(), 60_000, T0));
            assertEquals(Status.OK, apply(entries, store, commit(CKPT2, session, CKPT1)).status());
            assertEquals(Status.IN_USE, apply(entries, store, new DeleteImage(CKPT1)).status());
        }
        try (CatalogStore reopened = CatalogStore.open(dir)) {
            assertEquals(CKPT1, reopened.get(CKPT2).orElseThrow().parent());
            assertArrayEquals(oldValue, oldValueOf(reopened, CKPT1), "the old image's bytes are untouched");
        }
    }

    private static byte[] oldValueOf(CatalogStore store, ImageName name) throws Exception {
        ImageInfo info = store.get(name).orElseThrow();
        return CatalogReplyCodec.encodeEntry(info.commitIndex(), info.root(), info.parent());
    }

    /** The column families of format version 8, in its order, and one image in {@code images}. */
    private static void writeOldCatalog(Path dir, ImageName name, byte[] value) throws Exception {
        RocksDB.loadLibrary();
        List<String> families = List.of("images", "meta", "calls", "sessions", "gc", "members", "tokens", "quotas");
        try (DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
             ColumnFamilyOptions cf = new ColumnFamilyOptions()) {
            List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
            descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cf));
            families.forEach(f -> descriptors.add(new ColumnFamilyDescriptor(f.getBytes(StandardCharsets.UTF_8), cf)));
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            try (RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
                db.put(handles.get(1), name.value().getBytes(StandardCharsets.UTF_8), value);
                handles.forEach(ColumnFamilyHandle::close);
            }
        }
    }

    private static CommitInSession commit(ImageName name, UUID session, ImageName parent) {
        return new CommitInSession(name, root(name.value()), session, T0 + 1, false, parent);
    }

    /** Applies {@code request} as the next log entry, as the state machine does: one batch, one write. */
    private Reply apply(CatalogApply entries, CatalogStore store, Request request) throws Exception {
        Applied at = new Applied(1, ++index);
        try (CatalogBatch batch = store.batch()) {
            Reply reply = entries.apply(request, new Applying(store, batch, at.index()));
            store.write(batch, at);
            return reply;
        }
    }
}
