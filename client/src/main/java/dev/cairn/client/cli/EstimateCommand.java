package dev.cairn.client.cli;

import dev.cairn.client.CairnException;
import dev.cairn.engine.ChunkEncoder;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.image.Estimator;
import dev.cairn.engine.image.SourceException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn estimate PATH...}: what a store would hold for these images, offline. */
@Command(name = "estimate", mixinStandardHelpOptions = true,
        description = "Offline, no cluster: chunks, dedups and compresses the given images in order exactly as the "
                + "store would, and prints logical, unique and stored bytes and the ratio logical/stored.",
        footer = {"", "Example:", "  cairn estimate corpus/sim/dump-1 corpus/sim/dump-2"})
final class EstimateCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "image directories or files, in put order")
    List<Path> paths;

    @Option(names = "--json", description = "print one JSON object as the last line on stdout")
    boolean json;

    @Option(names = "--verbose", description = "print stack traces of errors")
    boolean verbose;

    @Option(names = "--tar", description = "each PATH is a tar archive (as put --tar takes)")
    boolean tar;

    @Option(names = "--allow-truncated-tar", description = "with --tar: take an archive that ends without its "
            + "end-of-archive blocks as far as it goes (as put --tar --allow-truncated-tar does)")
    boolean allowTruncatedTar;

    @Option(names = "--zstd-level", paramLabel = "N", description = "zstd level to estimate with (default: ${DEFAULT-VALUE}, what put uses)")
    int level = ChunkEncoder.DEFAULT_LEVEL;

    @Override
    public Integer call() {
        Estimator.Result r;
        try (Estimator estimator = new Estimator(ChunkingPolicy.DEFAULT, level, Runtime.getRuntime().availableProcessors())) {
            for (Path p : paths) {
                if (tar) {
                    try (java.io.InputStream in = new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(p), 1 << 20)) {
                        estimator.addTar(in, allowTruncatedTar ? dev.cairn.engine.image.TarOptions.ALLOW_TRUNCATED
                                : dev.cairn.engine.image.TarOptions.STRICT);
                    } catch (java.io.IOException e) {
                        throw new CairnException.LocalIo("cannot read " + p + ": " + e.getMessage(), e);
                    }
                } else {
                    estimator.add(p);
                }
            }
            r = estimator.result();
        } catch (SourceException e) {
            throw new CairnException.LocalIo(e.getMessage(), e);
        }
        String ratio = String.format(Locale.ROOT, "%.2f", r.ratio());
        System.out.println("images:  " + paths.size());
        System.out.println("logical: " + r.logicalBytes() + " (" + Output.bytes(r.logicalBytes()) + ") in " + r.chunks() + " chunks");
        System.out.println("unique:  " + r.uniqueBytes() + " (" + Output.bytes(r.uniqueBytes()) + ") in " + r.uniqueChunks() + " chunks");
        System.out.println("stored:  " + r.storedBytes() + " (" + Output.bytes(r.storedBytes()) + ")");
        System.out.println("ratio:   " + ratio + "x");
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("images", paths.size());
            j.put("logicalBytes", r.logicalBytes());
            j.put("uniqueBytes", r.uniqueBytes());
            j.put("storedBytes", r.storedBytes());
            j.put("chunks", r.chunks());
            j.put("uniqueChunks", r.uniqueChunks());
            j.put("ratio", Math.round(r.ratio() * 1000) / 1000.0);
            Output.json(System.out, j);
        }
        return 0;
    }
}
