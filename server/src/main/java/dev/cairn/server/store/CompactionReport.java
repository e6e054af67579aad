package dev.cairn.server.store;

/**
 * What one {@link ChunkStore#compact()} did.
 *
 * @param segmentsCompacted sealed segments rewritten and deleted
 * @param recordsCopied live records copied into the open segment
 * @param bytesFreed segment bytes on disk before minus after
 */
public record CompactionReport(int segmentsCompacted, long recordsCopied, long bytesFreed) {}
