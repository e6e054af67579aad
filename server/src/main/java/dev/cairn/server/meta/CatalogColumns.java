package dev.cairn.server.meta;

import dev.cairn.engine.ImageName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * The catalog's RocksDB database and its column families (names, order and the keys of the
 * single values in {@code meta} and {@code gc}), opened and closed together.
 */
final class CatalogColumns implements AutoCloseable {

    private static final byte[] IMAGES = "images".getBytes(StandardCharsets.UTF_8);
    private static final byte[] META = "meta".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CALLS = "calls".getBytes(StandardCharsets.UTF_8);
    private static final byte[] SESSIONS = "sessions".getBytes(StandardCharsets.UTF_8);
    private static final byte[] GC = "gc".getBytes(StandardCharsets.UTF_8);
    private static final byte[] MEMBERS = "members".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TOKENS = "tokens".getBytes(StandardCharsets.UTF_8);
    private static final byte[] QUOTAS = "quotas".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CHILDREN = "children".getBytes(StandardCharsets.UTF_8);
    static final byte[] MEMBERSHIP_INDEX = "membership-index".getBytes(StandardCharsets.UTF_8);
    static final byte[] GC_EPOCH = "epoch".getBytes(StandardCharsets.UTF_8);
    static final byte[] LOG_TIME = "log-time".getBytes(StandardCharsets.UTF_8);
    static final byte[] LAST_APPLIED = "last-applied".getBytes(StandardCharsets.UTF_8);

    static {
        RocksDB.loadLibrary();
    }

    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final RocksDB db;
    private final List<ColumnFamilyHandle> handles;

    private CatalogColumns(DBOptions dbOptions, ColumnFamilyOptions cfOptions, RocksDB db, List<ColumnFamilyHandle> handles) {
        this.dbOptions = dbOptions;
        this.cfOptions = cfOptions;
        this.db = db;
        this.handles = handles;
    }

    static CatalogColumns open(Path dir) throws IOException {
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
                new ColumnFamilyDescriptor(QUOTAS, cfOptions),
                // Since format version 9; a catalog of an older build gets it, empty, when opened.
                new ColumnFamilyDescriptor(CHILDREN, cfOptions));
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
            return new CatalogColumns(dbOptions, cfOptions, db, handles);
        } catch (RocksDBException e) {
            cfOptions.close();
            dbOptions.close();
            throw new IOException("cannot open the catalog database in " + dir + ": " + e.getMessage(), e);
        }
    }

    RocksDB db() {
        return db;
    }

    ColumnFamilyHandle images() {
        return handles.get(1);
    }

    ColumnFamilyHandle meta() {
        return handles.get(2);
    }

    ColumnFamilyHandle calls() {
        return handles.get(3);
    }

    ColumnFamilyHandle sessions() {
        return handles.get(4);
    }

    ColumnFamilyHandle gc() {
        return handles.get(5);
    }

    ColumnFamilyHandle members() {
        return handles.get(6);
    }

    ColumnFamilyHandle tokens() {
        return handles.get(7);
    }

    ColumnFamilyHandle quotas() {
        return handles.get(8);
    }

    /** Lineage, child by parent: key parent NUL child, empty value (names hold no NUL). */
    ColumnFamilyHandle children() {
        return handles.get(9);
    }

    /** The key of image {@code child}'s lineage in {@code children}: its parent's name, NUL, its name. */
    static byte[] childKey(ImageName parent, ImageName child) {
        return (parent.value() + '\0' + child.value()).getBytes(StandardCharsets.UTF_8);
    }

    /** The start of every key in {@code children} of the children of {@code parent}. */
    static byte[] childPrefix(ImageName parent) {
        return (parent.value() + '\0').getBytes(StandardCharsets.UTF_8);
    }

    /** The key of image {@code name} in {@code images}. */
    static byte[] key(ImageName name) {
        return name.value().getBytes(StandardCharsets.UTF_8);
    }

    /** Closes the column families, then the database and its options. */
    @Override
    public void close() {
        for (ColumnFamilyHandle handle : handles) {
            handle.close();
        }
        db.close();
        cfOptions.close();
        dbOptions.close();
    }
}
