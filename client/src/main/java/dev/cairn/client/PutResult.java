package dev.cairn.client;

/**
 * What a put did.
 *
 * @param name the image
 * @param logicalBytes bytes of the image's files
 * @param sentBytes chunk bytes sent over the network, summed over every replica they went to
 * @param chunks chunk references in the image
 * @param newChunks distinct chunks that no write quorum held before and were sent
 * @param storedBytes encoded bytes of the image's distinct chunks (before replication)
 * @param commitIndex the Raft log index of the image's commit
 */
public record PutResult(String name, long logicalBytes, long sentBytes, long chunks, long newChunks, long storedBytes,
                        long commitIndex) {}
