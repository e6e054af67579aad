package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.MembershipMessages.Member;
import dev.cairn.server.meta.CatalogStore.GcState;
import dev.cairn.server.meta.CatalogStore.Session;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/** The changes of one apply; {@link CatalogStore#write} stores them atomically with the applied position. */
final class CatalogBatch implements AutoCloseable {

    private final WriteBatch batch = new WriteBatch();
    private final CatalogColumns columns;
    private final CallTable calls;
    private final QuotaTable quotas;

    CatalogBatch(CatalogColumns columns, CallTable calls, QuotaTable quotas) {
        this.columns = columns;
        this.calls = calls;
        this.quotas = quotas;
    }

    void putImage(ImageName name, ImageRoot root, long commitIndex) throws RocksDBException {
        putImage(name, root, commitIndex, null);
    }

    /** Records an image and, when it has a parent, the parent's child index entry with it. */
    void putImage(ImageName name, ImageRoot root, long commitIndex, ImageName parent) throws RocksDBException {
        batch.put(columns.images(), CatalogColumns.key(name), CatalogReplyCodec.encodeEntry(commitIndex, root, parent));
        if (parent != null) {
            batch.put(columns.children(), CatalogColumns.childKey(parent, name), new byte[0]);
        }
    }

    void deleteImage(ImageName name) throws RocksDBException {
        deleteImage(name, null);
    }

    /** Forgets an image and, when it had a parent, its entry in the parent's child index. */
    void deleteImage(ImageName name, ImageName parent) throws RocksDBException {
        batch.delete(columns.images(), CatalogColumns.key(name));
        if (parent != null) {
            batch.delete(columns.children(), CatalogColumns.childKey(parent, name));
        }
    }

    /** Records the reply of call {@code callKey}, first applied at {@code index}. */
    void putCall(byte[] callKey, long index, byte[] reply) throws RocksDBException {
        calls.put(batch, callKey, index, reply);
    }

    void putSession(Session s) throws RocksDBException {
        batch.put(columns.sessions(), StoredValues.uuid(s.sessionId()), StoredValues.encodeSession(s));
    }

    void deleteSession(UUID sessionId) throws RocksDBException {
        batch.delete(columns.sessions(), StoredValues.uuid(sessionId));
    }

    void putGcState(GcState g) throws RocksDBException {
        batch.put(columns.gc(), CatalogColumns.GC_EPOCH, StoredValues.encodeGcState(g));
    }

    /** Records a member and, as the membership's version, the index of the entry that changed it. */
    void putMember(Member m, long index) throws RocksDBException {
        batch.put(columns.members(), m.id().getBytes(StandardCharsets.UTF_8), CatalogMemberMessages.encodeStoredMember(m));
        putMembershipIndex(index);
    }

    void deleteMember(String id, long index) throws RocksDBException {
        batch.delete(columns.members(), id.getBytes(StandardCharsets.UTF_8));
        putMembershipIndex(index);
    }

    private void putMembershipIndex(long index) throws RocksDBException {
        batch.put(columns.meta(), CatalogColumns.MEMBERSHIP_INDEX, StoredValues.encodeMembershipIndex(index));
    }

    /** Records an access token under its id: the hash of its secret, never the secret. */
    void putToken(StoredToken t) throws RocksDBException {
        batch.put(columns.tokens(), t.info().id().getBytes(StandardCharsets.UTF_8), CatalogTokenMessages.encodeStored(t));
    }

    void deleteToken(String id) throws RocksDBException {
        batch.delete(columns.tokens(), id.getBytes(StandardCharsets.UTF_8));
    }

    /** Records a quota with its count; a commit or delete under it writes it in its own batch. */
    void putQuota(StoredQuota q) throws RocksDBException {
        quotas.put(batch, q);
    }

    void deleteQuota(String prefix) throws RocksDBException {
        quotas.delete(batch, prefix);
    }

    void putLogTime(long millis) throws RocksDBException {
        batch.put(columns.meta(), CatalogColumns.LOG_TIME, StoredValues.encodeLogTime(millis));
    }

    /** The RocksDB batch itself, for the store's write and for expiring calls. */
    WriteBatch writes() {
        return batch;
    }

    @Override
    public void close() {
        batch.close();
    }
}
