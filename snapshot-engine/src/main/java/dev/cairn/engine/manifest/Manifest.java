package dev.cairn.engine.manifest;

import java.util.List;

/** The full description of an image: its entries in a canonical order (parents before children). */
public record Manifest(List<FileEntry> entries) {

    public Manifest {
        entries = List.copyOf(entries);
    }

    /** True when this is the manifest of an image put from a single stream. */
    public boolean isStream() {
        return entries.size() == 1 && entries.get(0).type() == FileType.STREAM;
    }

    public long logicalBytes() {
        long sum = 0;
        for (FileEntry e : entries) {
            sum += e.size();
        }
        return sum;
    }

    public long chunkCount() {
        long sum = 0;
        for (FileEntry e : entries) {
            sum += e.chunks().size();
        }
        return sum;
    }
}
