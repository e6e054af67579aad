package dev.cairn.server.store;

import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB index of one chunk store: chunk id to where its record is, plus the recovery
 * checkpoint. It is a cache of the segments: writes go to the WAL without sync, and whatever a
 * crash loses is re-read from the segments on open.
 */
final class ChunkIndex implements AutoCloseable {

    /**
     * Where a chunk's record lives: a record of its own ({@code members} 0), or member {@code slot}
     * of a pack record of {@code members} chunks.
     */
    record Location(int segment, long offset, int recordLength, int slot, int members) {

        static final int BYTES = 16;
        static final int PACK_MEMBER_BYTES = 20;

        /** The location of a chunk's own record. */
        Location(int segment, long offset, int recordLength) {
            this(segment, offset, recordLength, 0, 0);
        }

        boolean inPack() {
            return members > 0;
        }

        /** The same member of the same record, at another place (compaction). */
        Location movedTo(Location record) {
            return new Location(record.segment(), record.offset(), record.recordLength(), slot, members);
        }

        /** True when both name the same record, whichever member. */
        boolean sameRecord(Location other) {
            return segment == other.segment && offset == other.offset;
        }

        /**
         * The chunk's encoded bytes: its record's payload, or for a pack member an equal share of the
         * pack's frame (the shares of a pack's members add up to the frame).
         */
        int storedLength() {
            int payload = recordLength - SegmentRecord.HEADER_BYTES;
            if (!inPack()) {
                return payload;
            }
            return ChunkPack.share(payload - members * SegmentRecord.MEMBER_BYTES, members, slot, 1);
        }

        /** The record bytes this chunk keeps alive: the whole record, or an equal share of its pack's. */
        long liveRecordBytes() {
            return inPack() ? ChunkPack.share(recordLength, members, slot, 1) : recordLength;
        }

        byte[] encode() {
            ByteBuffer b = ByteBuffer.allocate(inPack() ? PACK_MEMBER_BYTES : BYTES)
                    .putInt(segment).putLong(offset).putInt(recordLength);
            if (inPack()) {
                b.putShort((short) slot).putShort((short) members);
            }
            return b.array();
        }

        static Location decode(byte[] value) {
            if (value.length != BYTES && value.length != PACK_MEMBER_BYTES) {
                throw new IllegalStateException("index value of " + value.length + " bytes, expected " + BYTES
                        + " or " + PACK_MEMBER_BYTES);
            }
            ByteBuffer b = ByteBuffer.wrap(value);
            int segment = b.getInt();
            long offset = b.getLong();
            int recordLength = b.getInt();
            if (value.length == BYTES) {
                return new Location(segment, offset, recordLength);
            }
            return new Location(segment, offset, recordLength, b.getShort() & 0xffff, b.getShort() & 0xffff);
        }
    }

    /** Every record before this position has been scanned into the index. */
    record Checkpoint(int segment, long offset) {

        byte[] encode() {
            return ByteBuffer.allocate(12).putInt(segment).putLong(offset).array();
        }

        static Checkpoint decode(byte[] value) {
            ByteBuffer b = ByteBuffer.wrap(value);
            return new Checkpoint(b.getInt(), b.getLong());
        }
    }

    /** The memtable's bloom filter as a share of its write buffer (64 MiB by default): 1.3 MiB. */
    static final double MEMTABLE_BLOOM_RATIO = 0.02;

    private static final byte[] META_CF = "meta".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHECKPOINT_KEY = "scanned-up-to".getBytes(StandardCharsets.US_ASCII);

    static {
        RocksDB.loadLibrary();
    }

    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions writeOptions;
    private final RocksDB db;
    private final ColumnFamilyHandle chunks;
    private final ColumnFamilyHandle meta;

    private ChunkIndex(DBOptions dbOptions, ColumnFamilyOptions cfOptions, RocksDB db,
                       List<ColumnFamilyHandle> handles) {
        this.dbOptions = dbOptions;
        this.cfOptions = cfOptions;
        this.db = db;
        this.chunks = handles.get(0);
        this.meta = handles.get(1);
        // WAL on, no sync: survives a process crash for free; a power loss is repaired by the scan.
        this.writeOptions = new WriteOptions().setSync(false).setDisableWAL(false);
    }

    static ChunkIndex open(Path dir) throws IOException {
        Files.createDirectories(dir);
        DBOptions dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
        // Keys are SHA-256 digests: they do not compress, and most lookups (dedup checks) miss,
        // which a bloom filter answers without reading a data block. The memtable gets one too:
        // it holds every entry since the last flush (all of them, on a young node), and without a
        // filter each missing chunk of a put cost two skip-list searches (its HAS check and the
        // commit's), 15% of a replica's CPU in a profile of puts of new pages.
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions()
                .setCompressionType(CompressionType.NO_COMPRESSION)
                .setMemtableWholeKeyFiltering(true)
                .setMemtablePrefixBloomSizeRatio(MEMTABLE_BLOOM_RATIO)
                .setTableFormatConfig(new BlockBasedTableConfig().setFilterPolicy(new BloomFilter(10)));
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor(META_CF, cfOptions));
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
            return new ChunkIndex(dbOptions, cfOptions, db, handles);
        } catch (RocksDBException e) {
            dbOptions.close();
            cfOptions.close();
            throw new IOException("cannot open the chunk index in " + dir + ": " + e.getMessage(), e);
        }
    }

    Location get(ChunkId id) throws IOException {
        try {
            byte[] value = db.get(chunks, id.toBytes());
            return value == null ? null : Location.decode(value);
        } catch (RocksDBException e) {
            throw new IOException("chunk index read failed for chunk " + id + ": " + e.getMessage(), e);
        }
    }

    /** Adds the records of one synced batch and moves the checkpoint past them, atomically. */
    void put(List<ChunkId> ids, List<Location> locations, Checkpoint checkpoint) throws IOException {
        try (WriteBatch batch = new WriteBatch()) {
            for (int i = 0; i < ids.size(); i++) {
                batch.put(chunks, ids.get(i).toBytes(), locations.get(i).encode());
            }
            batch.put(meta, CHECKPOINT_KEY, checkpoint.encode());
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw new IOException("chunk index write failed: " + e.getMessage(), e);
        }
    }

    void delete(ChunkId id) throws IOException {
        try {
            db.delete(chunks, writeOptions, id.toBytes());
        } catch (RocksDBException e) {
            throw new IOException("chunk index delete failed for chunk " + id + ": " + e.getMessage(), e);
        }
    }

    Checkpoint checkpoint() throws IOException {
        try {
            byte[] value = db.get(meta, CHECKPOINT_KEY);
            return value == null ? null : Checkpoint.decode(value);
        } catch (RocksDBException e) {
            throw new IOException("chunk index read of the checkpoint failed: " + e.getMessage(), e);
        }
    }

    /**
     * Up to {@code limit} chunk ids in id order, strictly after {@code after} (or from the first
     * when null): a page of the store's contents for repair and scrub.
     */
    List<ChunkId> idsAfter(ChunkId after, int limit) {
        List<ChunkId> ids = new ArrayList<>(Math.min(limit, 4096));
        try (RocksIterator it = db.newIterator(chunks)) {
            if (after == null) {
                it.seekToFirst();
            } else {
                byte[] key = after.toBytes();
                it.seek(key);
                if (it.isValid() && java.util.Arrays.equals(it.key(), key)) {
                    it.next();
                }
            }
            for (; it.isValid() && ids.size() < limit; it.next()) {
                ids.add(ChunkId.fromBytes(it.key()));
            }
        }
        return ids;
    }

    /** Forgets every entry and the checkpoint: the next scan rebuilds from the first segment. */
    void clear() throws IOException {
        try (RocksIterator it = db.newIterator(chunks); WriteBatch batch = new WriteBatch()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                batch.delete(chunks, it.key());
            }
            batch.delete(meta, CHECKPOINT_KEY);
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw new IOException("chunk index clear failed: " + e.getMessage(), e);
        }
    }

    /** Calls {@code action} with every live entry's location, by a full iteration (done once, at open). */
    void forEachLocation(java.util.function.Consumer<Location> action) {
        try (RocksIterator it = db.newIterator(chunks)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                action.accept(Location.decode(it.value()));
            }
        }
    }

    /** Makes every write so far survive a power loss (fsync of the WAL). */
    void syncWal() throws IOException {
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            throw new IOException("chunk index WAL sync failed: " + e.getMessage(), e);
        }
    }

    /** Flushes memtables to SST files (used by measurements). */
    void flush() throws IOException {
        try (org.rocksdb.FlushOptions options = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
            db.flush(options, List.of(chunks, meta));
            db.compactRange(chunks);
        } catch (RocksDBException e) {
            throw new IOException("chunk index flush failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            // Cheap on a clean shutdown, and saves the next open a rescan.
            db.flushWal(true);
        } catch (RocksDBException e) {
            // The scan on the next open repairs whatever the WAL lost.
        }
        chunks.close();
        meta.close();
        db.close();
        writeOptions.close();
        cfOptions.close();
        dbOptions.close();
    }
}
