package dev.cairn.client;

/** What a repair request asks each node for. */
public enum RepairMode {
    /** The node's last census, as it is. */
    REPORT,
    /** A repair pass run now: copies each chunk below N to the placement nodes that lack it. */
    RUN;

    dev.cairn.protocol.ReplicationMessages.RepairMode toWire() {
        return dev.cairn.protocol.ReplicationMessages.RepairMode.valueOf(name());
    }
}
