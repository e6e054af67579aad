package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.MembershipMessages.Member;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * The catalog's durable state in RocksDB: column family {@code images} maps a name to its
 * encoded (commit index, root), column family {@code meta} holds the last applied Raft term and
 * index and the log time, column family {@code calls} the replies of recent client calls
 * (exactly-once, {@link CallTable}), {@code sessions} the open upload sessions, {@code gc} the GC
 * epoch, {@code members} the cluster's membership (node id to address, zone and state) and
 * {@code tokens} the access tokens (id to tenant, role, prefixes and the SHA-256 of the secret),
 * {@code quotas} the byte quotas ({@link QuotaTable}). The
 * database and its column families are opened in {@link CatalogColumns}; the values' bytes are
 * in {@link StoredValues}. Every change writes both in one {@link CatalogBatch},
 * so the catalog and the index it reflects can never disagree, whatever the crash point.
 *
 * <p>Writes go to RocksDB's WAL without fsync. That is safe because the Raft log, which is
 * fsync'd before an entry counts as committed, is the source of truth: a write lost in a crash
 * loses its last-applied marker with it, and the entry is applied again on replay.
 *
 * <p>Not thread-safe for writers (Ratis applies serially); readers may run concurrently, and
 * {@link #close()} must not race them (the state machine guards that).
 */
final class CatalogStore implements AutoCloseable {

    /** A Raft log position: term and index. */
    record Applied(long term, long index) {}

    /** The recorded outcome of a call: the log index that applied it first, and its encoded reply. */
    record RecordedCall(long index, byte[] reply) {}

    /**
     * An open upload session: its lease protects what it writes from a concurrent GC sweep.
     *
     * @param openedAtIndex the log index of its OPEN_SESSION entry
     * @param leaseExpiryMillis log time (leader-stamped, see {@link CatalogMessages.Stamped}) at which the lease ends
     */
    record Session(UUID sessionId, UUID clientId, long openedAtIndex, long leaseExpiryMillis) {}

    /** Where garbage collection is: no epoch yet, marking epoch E, or E may be swept. */
    enum GcPhase {
        NONE(0), MARKING(1), SWEEPING(2);

        final int code;

        GcPhase(int code) {
            this.code = code;
        }

        static GcPhase of(int code) throws IOException {
            for (GcPhase p : values()) {
                if (p.code == code) {
                    return p;
                }
            }
            throw new IOException("unknown GC phase " + code + " in the catalog");
        }
    }

    /** The current GC epoch, its phase, and the log index at which it began. */
    record GcState(long epoch, GcPhase phase, long begunAtIndex) {
        static final GcState NONE = new GcState(0, GcPhase.NONE, 0);
    }

    private final CatalogColumns columns;
    private final WriteOptions writeOptions;
    private final RocksDB db;
    private final ColumnFamilyHandle images;
    private final ColumnFamilyHandle meta;
    private final CallTable calls;
    private final ColumnFamilyHandle sessions;
    private final ColumnFamilyHandle gc;
    private final ColumnFamilyHandle members;
    private final ColumnFamilyHandle tokens;
    private final QuotaTable quotas;

    private CatalogStore(CatalogColumns columns) {
        this.columns = columns;
        this.writeOptions = new WriteOptions(); // WAL on, no fsync: the Raft log is the durable record
        this.db = columns.db();
        this.images = columns.images();
        this.meta = columns.meta();
        this.calls = new CallTable(db, columns.calls());
        this.sessions = columns.sessions();
        this.gc = columns.gc();
        this.members = columns.members();
        this.tokens = columns.tokens();
        this.quotas = new QuotaTable(db, columns.quotas(), images);
    }

    static CatalogStore open(Path dir) throws IOException {
        return new CatalogStore(CatalogColumns.open(dir));
    }

    /** The last applied log position, or (0, -1) for a new catalog. */
    Applied lastApplied() throws IOException {
        try {
            byte[] value = db.get(meta, CatalogColumns.LAST_APPLIED);
            if (value == null) {
                return new Applied(0, -1);
            }
            return StoredValues.decodeApplied(value);
        } catch (RocksDBException e) {
            throw new IOException("cannot read the catalog's last applied index: " + e.getMessage(), e);
        }
    }

    Optional<ImageInfo> get(ImageName name) throws IOException {
        try {
            byte[] value = db.get(images, CatalogColumns.key(name));
            return value == null ? Optional.empty() : Optional.of(CatalogReplyCodec.decodeEntry(name, value));
        } catch (RocksDBException e) {
            throw new IOException("cannot read image " + name + " from the catalog: " + e.getMessage(), e);
        }
    }

    /** One image that names {@code parent} as its parent (the first by name), if any does. */
    Optional<ImageName> firstChild(ImageName parent) {
        byte[] prefix = CatalogColumns.childPrefix(parent);
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(columns.children(), options)) {
            it.seek(prefix);
            if (!it.isValid() || !startsWith(it.key(), prefix)) {
                return Optional.empty();
            }
            byte[] key = it.key();
            return Optional.of(new ImageName(new String(key, prefix.length, key.length - prefix.length,
                    StandardCharsets.UTF_8)));
        }
    }

    /** Images whose name starts with {@code prefix}, in name order, at most {@code limit}. */
    List<ImageInfo> list(String prefix, int limit) {
        byte[] start = prefix.getBytes(StandardCharsets.UTF_8);
        List<ImageInfo> out = new ArrayList<>();
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(images, options)) {
            // Names are ASCII, so RocksDB's bytewise key order is the names' String order.
            for (it.seek(start); it.isValid() && out.size() < limit; it.next()) {
                byte[] key = it.key();
                if (!startsWith(key, start)) {
                    break;
                }
                ImageName name = new ImageName(new String(key, StandardCharsets.UTF_8));
                out.add(CatalogReplyCodec.decodeEntry(name, it.value()));
            }
        }
        return out;
    }

    CatalogBatch batch() {
        return new CatalogBatch(columns, calls, quotas);
    }

    /** Writes {@code batch} and the applied position in one atomic RocksDB write. */
    void write(CatalogBatch batch, Applied applied) throws IOException {
        try {
            batch.writes().put(meta, CatalogColumns.LAST_APPLIED, StoredValues.encodeApplied(applied));
            db.write(writeOptions, batch.writes());
        } catch (RocksDBException e) {
            throw new IOException("cannot write log entry " + applied.index() + " to the catalog: " + e.getMessage(), e);
        }
    }

    /** Puts an image and the applied position in one atomic batch. */
    void put(ImageName name, ImageRoot root, Applied applied) throws IOException {
        try (CatalogBatch batch = batch()) {
            batch.putImage(name, root, applied.index());
            write(batch, applied);
        } catch (RocksDBException e) {
            throw new IOException("cannot write image " + name + " to the catalog: " + e.getMessage(), e);
        }
    }

    /** Deletes an image and records the applied position in one atomic batch. */
    void delete(ImageName name, Applied applied) throws IOException {
        try (CatalogBatch batch = batch()) {
            batch.deleteImage(name);
            write(batch, applied);
        } catch (RocksDBException e) {
            throw new IOException("cannot delete image " + name + " from the catalog: " + e.getMessage(), e);
        }
    }

    Optional<Session> session(UUID sessionId) throws IOException {
        try {
            byte[] value = db.get(sessions, StoredValues.uuid(sessionId));
            return value == null ? Optional.empty() : Optional.of(StoredValues.decodeSession(sessionId, value));
        } catch (RocksDBException e) {
            throw new IOException("cannot read session " + sessionId + " from the catalog: " + e.getMessage(), e);
        }
    }

    /** Every open session, in session id order. Sessions are few (one per upload in flight). */
    List<Session> sessions() throws IOException {
        List<Session> out = new ArrayList<>();
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(sessions, options)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                ByteBuffer k = ByteBuffer.wrap(it.key());
                out.add(StoredValues.decodeSession(new UUID(k.getLong(), k.getLong()), it.value()));
            }
        }
        return out;
    }

    /** Every recorded member, in id order; empty before the membership is seeded. */
    List<Member> members() {
        List<Member> out = new ArrayList<>();
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(members, options)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(CatalogMemberMessages.decodeStoredMember(new String(it.key(), StandardCharsets.UTF_8), it.value()));
            }
        }
        return out;
    }

    /** Access token {@code id}, if it is recorded (created and not revoked). */
    Optional<StoredToken> token(String id) throws IOException {
        try {
            byte[] value = db.get(tokens, id.getBytes(StandardCharsets.UTF_8));
            return value == null ? Optional.empty() : Optional.of(CatalogTokenMessages.decodeStored(value));
        } catch (RocksDBException e) {
            throw new IOException("cannot read token " + id + " from the catalog: " + e.getMessage(), e);
        }
    }

    /** Every recorded access token, in id order. */
    List<StoredToken> tokens() {
        List<StoredToken> out = new ArrayList<>();
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(tokens, options)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(CatalogTokenMessages.decodeStored(it.value()));
            }
        }
        return out;
    }

    /** The byte quotas and their counts. */
    QuotaTable quotas() {
        return quotas;
    }

    /** The log index of the last membership change, or 0 when none is recorded. */
    long membershipIndex() throws IOException {
        try {
            byte[] value = db.get(meta, CatalogColumns.MEMBERSHIP_INDEX);
            if (value == null) {
                return 0;
            }
            return StoredValues.decodeMembershipIndex(value);
        } catch (RocksDBException e) {
            throw new IOException("cannot read the membership index from the catalog: " + e.getMessage(), e);
        }
    }

    GcState gcState() throws IOException {
        try {
            byte[] value = db.get(gc, CatalogColumns.GC_EPOCH);
            if (value == null) {
                return GcState.NONE;
            }
            return StoredValues.decodeGcState(value);
        } catch (RocksDBException e) {
            throw new IOException("cannot read the GC state from the catalog: " + e.getMessage(), e);
        }
    }

    /** The latest log time (leader-stamped milliseconds, never decreasing), or 0. */
    long logTimeMillis() throws IOException {
        try {
            byte[] value = db.get(meta, CatalogColumns.LOG_TIME);
            if (value == null) {
                return 0;
            }
            return StoredValues.decodeLogTime(value);
        } catch (RocksDBException e) {
            throw new IOException("cannot read the log time from the catalog: " + e.getMessage(), e);
        }
    }

    /** The recorded reply of a call, if it was applied and has not expired. */
    Optional<RecordedCall> call(byte[] callKey) throws IOException {
        return calls.get(callKey);
    }

    /**
     * Adds to {@code batch} the removal of at most {@code max} recorded calls first applied below
     * {@code belowIndex}, oldest first; returns how many (see {@link CallTable#expire}).
     */
    int expireCalls(CatalogBatch batch, long belowIndex, int max) throws IOException {
        return calls.expire(batch.writes(), belowIndex, max);
    }

    /** Records the applied position of an entry that changed nothing in the catalog. */
    void markApplied(Applied applied) throws IOException {
        try {
            db.put(meta, writeOptions, CatalogColumns.LAST_APPLIED, StoredValues.encodeApplied(applied));
        } catch (RocksDBException e) {
            throw new IOException("cannot record applied index " + applied.index() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes a consistent copy of the whole database to {@code target}, which must not exist:
     * RocksDB flushes the memtables (the flush fsyncs the new SST files) and hard-links the
     * immutable SST files, copying only the small MANIFEST, CURRENT and OPTIONS files.
     */
    void checkpoint(Path target) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.create(db)) {
            checkpoint.createCheckpoint(target.toString());
        } catch (RocksDBException e) {
            throw new IOException("cannot checkpoint the catalog into " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        columns.close();
        writeOptions.close();
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        if (key.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (key[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
