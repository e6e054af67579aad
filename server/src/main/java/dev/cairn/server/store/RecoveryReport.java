package dev.cairn.server.store;

/**
 * What the chunk store found when it opened: how much of the segments it re-read into the index,
 * what it cut off as a torn tail, and what it skipped as corrupt.
 *
 * @param segmentsScanned segment files read (fully or from the index's checkpoint)
 * @param recordsIndexed valid records re-added to the index
 * @param tornTailBytes bytes cut off the end of the last segment (appends that were never acknowledged,
 *     or a corrupt last record)
 * @param quarantinedRegions corrupt regions skipped inside segments (logged with segment and offset)
 * @param quarantinedBytes bytes in those regions
 * @param indexRebuilt true when the index had no usable checkpoint and was rebuilt from every segment
 */
public record RecoveryReport(int segmentsScanned, long recordsIndexed, long tornTailBytes,
                             long quarantinedRegions, long quarantinedBytes, boolean indexRebuilt) {}
