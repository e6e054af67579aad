package dev.cairn.client;

/**
 * A byte quota as the cluster records it: the name prefix it limits (a tenant), the logical bytes
 * of the images under that prefix now, and the most it may hold.
 */
public record Quota(String prefix, long usedBytes, long maxBytes) {

    /** How full the quota is, in percent (above 100 when its maximum was lowered below what is there). */
    public double percentUsed() {
        return maxBytes <= 0 ? 0 : 100.0 * usedBytes / maxBytes;
    }
}
