package dev.cairn.engine.bench;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDictTrainer;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.chunking.ChunkingPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Does a zstd dictionary trained on pages shrink what the store keeps? Reads the given dump
 * directories in order, keeps the distinct 4 KiB pages of their {@code pages-*.img} files, and
 * compresses each page alone at level 3 without and with a dictionary trained on those pages
 * (the dictionary's own size is counted). Training on the very pages it then compresses is the
 * best case for the dictionary. Run:
 * {@code java -cp ... dev.cairn.engine.bench.DictionaryMeasurement DIR...}
 */
public final class DictionaryMeasurement {

    public static void main(String[] args) throws IOException {
        List<byte[]> pages = new ArrayList<>();
        Set<ChunkId> seen = new HashSet<>();
        for (String dump : args) {
            try (Stream<Path> files = Files.list(Path.of(dump))) {
                for (Path f : files.sorted().toList()) {
                    if (!ChunkingPolicy.isPageFile(f.getFileName().toString())) {
                        continue;
                    }
                    byte[] b = Files.readAllBytes(f);
                    for (int at = 0; at + 4096 <= b.length; at += 4096) {
                        if (seen.add(ChunkId.of(b, at, 4096))) {
                            pages.add(java.util.Arrays.copyOfRange(b, at, at + 4096));
                        }
                    }
                }
            }
        }
        long raw = 4096L * pages.size();
        long plain = 0;
        try (ChunkEncoder encoder = new ChunkEncoder()) {
            for (byte[] p : pages) {
                plain += encoder.encode(p, 0, p.length).storedLength();
            }
        }
        System.out.printf("distinct pages: %d (%d bytes); zstd-3 per page, raw when it does not pay: %d bytes%n",
                pages.size(), raw, plain);
        for (int dictBytes : new int[] {16 * 1024, 64 * 1024, 112 * 1024}) {
            ZstdDictTrainer trainer = new ZstdDictTrainer((int) Math.min(raw, 100L * 1024 * 1024), dictBytes);
            for (byte[] p : pages) {
                if (!trainer.addSample(p)) {
                    break;
                }
            }
            byte[] dict = trainer.trainSamples();
            long withDict = dict.length;
            byte[] out = new byte[8192];
            try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
                ctx.setLevel(3);
                ctx.setContentSize(false);
                ctx.setChecksum(false);
                ctx.setDictID(false);
                ctx.loadDict(dict);
                for (byte[] p : pages) {
                    int n = ctx.compressByteArray(out, 0, out.length, p, 0, p.length);
                    withDict += n < p.length - p.length / ChunkEncoder.MIN_SAVING_DIVISOR ? n : p.length;
                }
            }
            System.out.printf("dictionary of %d bytes: %d bytes with the dictionary counted, gain %.1f%%%n",
                    dict.length, withDict, 100.0 * (plain - withDict) / plain);
        }
    }
}
