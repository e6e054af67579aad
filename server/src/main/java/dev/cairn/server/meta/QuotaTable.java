package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The byte quotas, in the catalog's {@code quotas} column family: prefix to (max, used). A
 * commit finds the quotas over its name with one point read per {@code /} of the name (a quota
 * prefix ends with {@code /}), so it costs no scan however many images or quotas there are.
 */
final class QuotaTable {

    private final RocksDB db;
    private final ColumnFamilyHandle quotas;
    private final ColumnFamilyHandle images;

    QuotaTable(RocksDB db, ColumnFamilyHandle quotas, ColumnFamilyHandle images) {
        this.db = db;
        this.quotas = quotas;
        this.images = images;
    }

    void put(WriteBatch batch, StoredQuota q) throws RocksDBException {
        batch.put(quotas, key(q.prefix()), CatalogQuotaMessages.encodeStored(q));
    }

    void delete(WriteBatch batch, String prefix) throws RocksDBException {
        batch.delete(quotas, key(prefix));
    }

    Optional<StoredQuota> get(String prefix) throws IOException {
        try {
            byte[] value = db.get(quotas, key(prefix));
            return value == null ? Optional.empty() : Optional.of(CatalogQuotaMessages.decodeStored(prefix, value));
        } catch (RocksDBException e) {
            throw new IOException("cannot read quota " + prefix + " from the catalog: " + e.getMessage(), e);
        }
    }

    /** The quotas whose prefix covers image {@code name}, shortest prefix first. */
    List<StoredQuota> covering(ImageName name) throws IOException {
        String n = name.value();
        List<StoredQuota> out = new ArrayList<>();
        for (int slash = n.indexOf('/'); slash >= 0; slash = n.indexOf('/', slash + 1)) {
            get(n.substring(0, slash + 1)).ifPresent(out::add);
        }
        return out;
    }

    /** Every quota, in prefix order. */
    List<StoredQuota> all() {
        List<StoredQuota> out = new ArrayList<>();
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(quotas, options)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(CatalogQuotaMessages.decodeStored(new String(it.key(), StandardCharsets.UTF_8), it.value()));
            }
        }
        return out;
    }

    /**
     * The logical bytes of every image under {@code prefix}: a scan, run once when a quota is
     * set on a prefix that has none, so that it counts what is already there.
     */
    long logicalBytesUnder(String prefix) {
        byte[] start = key(prefix);
        long sum = 0;
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(images, options)) {
            for (it.seek(start); it.isValid() && startsWith(it.key(), start); it.next()) {
                ImageName name = new ImageName(new String(it.key(), StandardCharsets.UTF_8));
                long bytes = CatalogReplyCodec.decodeEntry(name, it.value()).root().logicalBytes();
                sum = bytes > Long.MAX_VALUE - sum ? Long.MAX_VALUE : sum + bytes;
            }
        }
        return sum;
    }

    private static byte[] key(String prefix) {
        return prefix.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }
}
