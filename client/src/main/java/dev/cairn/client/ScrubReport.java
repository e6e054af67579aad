package dev.cairn.client;

import dev.cairn.protocol.ReplicationMessages;

/**
 * What one node's scrub found.
 *
 * @param checked chunks re-read and re-hashed
 * @param corrupt chunks whose bytes did not match their id or CRC
 * @param repaired corrupt chunks replaced by a verified copy from a peer
 * @param unrepairable corrupt chunks no peer could supply
 */
public record ScrubReport(String nodeId, long checked, long corrupt, long repaired, long unrepairable,
                          long durationMillis) {

    static ScrubReport of(ReplicationMessages.ScrubReport r) {
        return new ScrubReport(r.nodeId(), r.checked(), r.corrupt(), r.repaired(), r.unrepairable(), r.durationMillis());
    }
}
