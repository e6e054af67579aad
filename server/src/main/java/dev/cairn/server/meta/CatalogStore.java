package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.ImageRoot;
import dev.cairn.protocol.MembershipMessages.Member;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The catalog's durable state in RocksDB: column family {@code images} maps a name to its
 * encoded (commit index, root), column family {@code meta} holds the last applied Raft term and
 * index and the log time, column family {@code calls} the replies of recent client calls
 * (exactly-once, {@link CallTable}), {@code sessions} the open upload sessions, {@code gc} the GC
 * epoch, {@code members} the cluster's membership (node id to address, zone and state) and
 * {@code tokens} the access tokens (id to tenant, role, prefixes and the SHA-256 of the secret),
 * {@code quotas} the byte quotas ({@link QuotaTable}). The
 * values' bytes are in {@link StoredValues}. Every change writes both in one {@link WriteBatch},
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

    private static final byte[] IMAGES = "images".getBytes(StandardCharsets.UTF_8);
    private static final byte[] META = "meta".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CALLS = "calls".getBytes(StandardCharsets.UTF_8);
    private static final byte[] SESSIONS = "sessions".getBytes(StandardCharsets.UTF_8);
    private static final byte[] GC = "gc".getBytes(StandardCharsets.UTF_8);
    private static final byte[] MEMBERS = "members".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TOKENS = "tokens".getBytes(StandardCharsets.UTF_8);
    private static final byte[] QUOTAS = "quotas".getBytes(StandardCharsets.UTF_8);
    private static final byte[] MEMBERSHIP_INDEX = "membership-index".getBytes(StandardCharsets.UTF_8);
    private static final byte[] GC_EPOCH = "epoch".getBytes(StandardCharsets.UTF_8);
    private static final byte[] LOG_TIME = "log-time".getBytes(StandardCharsets.UTF_8);
    private static final byte[] LAST_APPLIED = "last-applied".getBytes(StandardCharsets.UTF_8);

    static {
        RocksDB.loadLibrary();
    }

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

    /** The changes of one apply; {@link #write} stores them atomically with the applied position. */
    final class Batch implements AutoCloseable {
        private final WriteBatch batch = new WriteBatch();

        void putImage(ImageName name, ImageRoot root, long commitIndex) throws RocksDBException {
            batch.put(images, key(name), CatalogReplyCodec.encodeEntry(commitIndex, root));
        }

        void deleteImage(ImageName name) throws RocksDBException {
            batch.delete(images, key(name));
        }

        /** Records the reply of call {@code callKey}, first applied at {@code index}. */
        void putCall(byte[] callKey, long index, byte[] reply) throws RocksDBException {
            calls.put(batch, callKey, index, reply);
        }

        void putSession(Session s) throws RocksDBException {
            batch.put(sessions, StoredValues.uuid(s.sessionId()), StoredValues.encodeSession(s));
        }

        void deleteSession(UUID sessionId) throws RocksDBException {
            batch.delete(sessions, StoredValues.uuid(sessionId));
        }

        void putGcState(GcState g) throws RocksDBException {
            batch.put(gc, GC_EPOCH, StoredValues.encodeGcState(g));
        }

        /** Records a member and, as the membership's version, the index of the entry that changed it. */
        void putMember(Member m, long index) throws RocksDBException {
            batch.put(members, m.id().getBytes(StandardCharsets.UTF_8), CatalogMemberMessages.encodeStoredMember(m));
            putMembershipIndex(index);
        }

        void deleteMember(String id, long index) throws RocksDBException {
            batch.delete(members, id.getBytes(StandardCharsets.UTF_8));
            putMembershipIndex(index);
        }

        private void putMembershipIndex(long index) throws RocksDBException {
            batch.put(meta, MEMBERSHIP_INDEX, StoredValues.encodeMembershipIndex(index));
        }

        /** Records an access token under its id: the hash of its secret, never the secret. */
        void putToken(StoredToken t) throws RocksDBException {
            batch.put(tokens, t.info().id().getBytes(StandardCharsets.UTF_8), CatalogTokenMessages.encodeStored(t));
        }

        void deleteToken(String id) throws RocksDBException {
            batch.delete(tokens, id.getBytes(StandardCharsets.UTF_8));
        }

        /** Records a quota with its count; a commit or delete under it writes it in its own batch. */
        void putQuota(StoredQuota q) throws RocksDBException {
            quotas.put(batch, q);
        }

        void deleteQuota(String prefix) throws RocksDBException {
            quotas.delete(batch, prefix);
        }

        void putLogTime(long millis) throws RocksDBException {
            batch.put(meta, LOG_TIME, StoredValues.encodeLogTime(millis));
        }

        @Override
        public void close() {
            batch.close();
        }
    }
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions writeOptions;
    private final RocksDB db;
    private final List<ColumnFamilyHandle> handles;
    private final ColumnFamilyHandle images;
    private final ColumnFamilyHandle meta;
    private final CallTable calls;
    private final ColumnFamilyHandle sessions;
    private final ColumnFamilyHandle gc;
    private final ColumnFamilyHandle members;
    private final ColumnFamilyHandle tokens;
    private final QuotaTable quotas;

    private CatalogStore(DBOptions dbOptions, ColumnFamilyOptions cfOptions, RocksDB db, List<ColumnFamilyHandle> handles) {
        this.dbOptions = dbOptions;
        this.cfOptions = cfOptions;
        this.writeOptions = new WriteOptions(); // WAL on, no fsync: the Raft log is the durable record
        this.db = db;
        this.handles = handles;
        this.images = handles.get(1);
        this.meta = handles.get(2);
        this.calls = new CallTable(db, handles.get(3));
        this.sessions = handles.get(4);
        this.gc = handles.get(5);
        this.members = handles.get(6);
        this.tokens = handles.get(7);
        this.quotas = new QuotaTable(db, handles.get(8), images);
    }

    static CatalogStore open(Path dir) throws IOException {
        Files.createDirectories(dir);
        DBOptions dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions();
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor(IMAGES, cfOptions),
                new ColumnFamilyDescriptor(META, cfOptions),
                new ColumnFamilyDescriptor(CALLS, cfOptions),
                new ColumnFamilyDescriptor(SESSIONS, cfOptions),
                new ColumnFamilyDescriptor(GC, cfOptions),
                new ColumnFamilyDescriptor(MEMBERS, cfOptions),
                new ColumnFamilyDescriptor(TOKENS, cfOptions),
                new ColumnFamilyDescriptor(QUOTAS, cfOptions));
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
            return new CatalogStore(dbOptions, cfOptions, db, handles);
        } catch (RocksDBException e) {
            cfOptions.close();
            dbOptions.close();
            throw new IOException("cannot open the catalog database in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The last applied log position, or (0, -1) for a new catalog. */
    Applied lastApplied() throws IOException {
        try {
            byte[] value = db.get(meta, LAST_APPLIED);
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
            byte[] value = db.get(images, key(name));
            return value == null ? Optional.empty() : Optional.of(CatalogReplyCodec.decodeEntry(name, value));
        } catch (RocksDBException e) {
            throw new IOException("cannot read image " + name + " from the catalog: " + e.getMessage(), e);
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

    Batch batch() {
        return new Batch();
    }

    /** Writes {@code batch} and the applied position in one atomic RocksDB write. */
    void write(Batch batch, Applied applied) throws IOException {
        try {
            batch.batch.put(meta, LAST_APPLIED, StoredValues.encodeApplied(applied));
            db.write(writeOptions, batch.batch);
        } catch (RocksDBException e) {
            throw new IOException("cannot write log entry " + applied.index() + " to the catalog: " + e.getMessage(), e);
        }
    }

    /** Puts an image and the applied position in one atomic batch. */
    void put(ImageName name, ImageRoot root, Applied applied) throws IOException {
        try (Batch batch = batch()) {
            batch.putImage(name, root, applied.index());
            write(batch, applied);
        } catch (RocksDBException e) {
            throw new IOException("cannot write image " + name + " to the catalog: " + e.getMessage(), e);
        }
    }

    /** Deletes an image and records the applied position in one atomic batch. */
    void delete(ImageName name, Applied applied) throws IOException {
        try (Batch batch = batch()) {
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
            byte[] value = db.get(meta, MEMBERSHIP_INDEX);
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
            byte[] value = db.get(gc, GC_EPOCH);
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
            byte[] value = db.get(meta, LOG_TIME);
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
    int expireCalls(Batch batch, long belowIndex, int max) throws IOException {
        return calls.expire(batch.batch, belowIndex, max);
    }

    /** Records the applied position of an entry that changed nothing in the catalog. */
    void markApplied(Applied applied) throws IOException {
        try {
            db.put(meta, writeOptions, LAST_APPLIED, StoredValues.encodeApplied(applied));
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
        for (ColumnFamilyHandle handle : handles) {
            handle.close();
        }
        db.close();
        writeOptions.close();
        cfOptions.close();
        dbOptions.close();
    }

    private static byte[] key(ImageName name) {
        return name.value().getBytes(StandardCharsets.UTF_8);
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
