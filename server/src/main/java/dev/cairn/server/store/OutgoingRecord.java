package dev.cairn.server.store;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.ChunkPack;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One record to write and the index entries it brings: a chunk's own record (one entry, slot
 * 0), or a pack's record with the members to index (members the store already held, or that
 * compaction found dead, are left out) and their slots.
 */
record OutgoingRecord(ByteBuffer header, ByteBuffer body, List<ChunkId> ids, List<Integer> slots, int members) {

    static OutgoingRecord of(ChunkData chunk) {
        ByteBuffer body = chunk.bytes().duplicate();
        return new OutgoingRecord(SegmentRecord.header(chunk.id(), chunk.codec(), chunk.rawLength(), body), body,
                List.of(chunk.id()), List.of(0), 0);
    }

    /** {@code pack}'s record, whose stored bytes are {@code body}, indexing members {@code slots}. */
    static OutgoingRecord of(ChunkPack pack, ByteBuffer body, List<Integer> slots) {
        List<ChunkId> ids = new ArrayList<>(slots.size());
        slots.forEach(slot -> ids.add(pack.members().get(slot).id()));
        return new OutgoingRecord(SegmentRecord.packHeader(pack, body), body, ids, List.copyOf(slots),
                pack.members().size());
    }

    long recordLength() {
        return SegmentRecord.HEADER_BYTES + (long) body.remaining();
    }

    /** Where entry {@code i} lives once the record is at {@code record}. */
    ChunkIndex.Location entryAt(ChunkIndex.Location record, int i) {
        return members == 0 ? record : new ChunkIndex.Location(record.segment(), record.offset(),
                record.recordLength(), slots.get(i), members);
    }
}
