package dev.cairn.server.meta;

import dev.cairn.server.meta.CatalogStore.RecordedCall;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The replies of recent client calls (exactly-once), in the catalog's {@code calls} column
 * family: {@code 'c' + call key -> (u8 version, i64 index, reply)}, and
 * {@code 'x' + index + call key -> nothing}, so that calls expire in the order they were applied.
 */
final class CallTable {

    private static final byte CALL_PREFIX = 'c';
    private static final byte EXPIRY_PREFIX = 'x';
    private static final int CALL_VERSION = 1;

    private final RocksDB db;
    private final ColumnFamilyHandle calls;

    CallTable(RocksDB db, ColumnFamilyHandle calls) {
        this.db = db;
        this.calls = calls;
    }

    /** Adds to {@code batch} the reply of call {@code callKey}, first applied at {@code index}. */
    void put(WriteBatch batch, byte[] callKey, long index, byte[] reply) throws RocksDBException {
        batch.put(calls, callKey(callKey), ByteBuffer.allocate(9 + reply.length)
                .put((byte) CALL_VERSION).putLong(index).put(reply).array());
        batch.put(calls, expiryKey(index, callKey), new byte[0]);
    }

    /** The recorded reply of a call, if it was applied and has not expired. */
    Optional<RecordedCall> get(byte[] callKey) throws IOException {
        try {
            byte[] value = db.get(calls, callKey(callKey));
            if (value == null) {
                return Optional.empty();
            }
            ByteBuffer b = ByteBuffer.wrap(value);
            int version = b.get() & 0xff;
            if (version != CALL_VERSION || b.remaining() < 8) {
                throw new IOException("recorded call has version " + version + " and " + value.length
                        + " bytes; this build writes version " + CALL_VERSION);
            }
            long index = b.getLong();
            byte[] reply = new byte[b.remaining()];
            b.get(reply);
            return Optional.of(new RecordedCall(index, reply));
        } catch (RocksDBException e) {
            throw new IOException("cannot read a recorded call from the catalog: " + e.getMessage(), e);
        }
    }

    /**
     * Adds to {@code batch} the removal of at most {@code max} recorded calls first applied below
     * {@code belowIndex}, oldest first; returns how many. Deterministic: it depends only on the
     * catalog, which is the same on every replica at the same log index.
     */
    int expire(WriteBatch batch, long belowIndex, int max) throws IOException {
        int expired = 0;
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(calls, options)) {
            for (it.seek(new byte[] {EXPIRY_PREFIX}); it.isValid() && expired < max; it.next()) {
                byte[] key = it.key();
                if (key.length != 1 + 8 + 24 || key[0] != EXPIRY_PREFIX) {
                    break;
                }
                ByteBuffer b = ByteBuffer.wrap(key, 1, 8 + 24);
                long index = b.getLong();
                if (index >= belowIndex) {
                    break;
                }
                byte[] callKey = new byte[24];
                b.get(callKey);
                batch.delete(calls, key);
                batch.delete(calls, callKey(callKey));
                expired++;
            }
        } catch (RocksDBException e) {
            throw new IOException("cannot expire recorded calls: " + e.getMessage(), e);
        }
        return expired;
    }

    private static byte[] callKey(byte[] key) {
        return ByteBuffer.allocate(1 + key.length).put(CALL_PREFIX).put(key).array();
    }

    private static byte[] expiryKey(long index, byte[] key) {
        return ByteBuffer.allocate(1 + 8 + key.length).put(EXPIRY_PREFIX).putLong(index).put(key).array();
    }
}
