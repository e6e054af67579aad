package dev.cairn.server.meta;

/**
 * One log entry being applied: the catalog as the entries before it left it, the batch that
 * collects this entry's changes, and the entry's own log index.
 *
 * <p>Handlers read from {@code store} and write only to {@code batch}; the state machine writes
 * the batch and the applied position in one atomic RocksDB write.
 */
record Applying(CatalogStore store, CatalogBatch batch, long index) {}
