package dev.cairn.engine.image;

import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.engine.chunking.ChunkPipeline;
import dev.cairn.engine.chunking.ChunkingPolicy;
import dev.cairn.engine.manifest.ChunkRef;
import dev.cairn.engine.manifest.EntryPaths;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import dev.cairn.engine.manifest.Manifest;
import dev.cairn.engine.manifest.ManifestCodec;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Feeds generated bad tar archives ({@link TarCases}: mutations of small real archives) through
 * the path a put takes ({@link ImageBuilder#fromTar}) and checks that each is refused with the
 * reader's own error or, when accepted, is an image that is safe to restore. Seeded: the seed is
 * printed, and {@code -Dcairn.fuzz.seed=S} replays a run ({@code -Dcairn.fuzz.cases=N} sets how
 * many inputs, 10,000 by default).
 */
class TarFuzzTest {

    /** Longest one input may take: these archives are a few KiB, so more means the reader loops. */
    static final long CASE_TIMEOUT_MS = 5_000;

    @Test
    void generatedBadArchivesAreRefusedWithAClearErrorOrAcceptedOnlyWhenSafe() throws Exception {
        long seed = Long.getLong("cairn.fuzz.seed", new SecureRandom().nextLong());
        int cases = Integer.getInteger("cairn.fuzz.cases", 10_000);
        System.out.println("TarFuzzTest: seed " + seed + ", " + cases + " cases (replay with -Dcairn.fuzz.seed=" + seed + ")");
        Random seeds = new Random(seed);
        Map<String, int[]> outcomes = new TreeMap<>(); // kind -> {accepted, refused}
        Map<String, String> failures = new TreeMap<>(); // the first failure of each kind
        ExecutorService worker = newWorker();
        try {
            for (int i = 0; i < cases; i++) {
                TarCases.Case c = TarCases.next(seeds.nextLong());
                String where = "case " + i + " (" + c.kind() + ", " + c.tar().length + " bytes) of seed " + seed;
                try {
                    Manifest accepted = run(worker, c, where);
                    outcomes.computeIfAbsent(c.kind(), k -> new int[2])[accepted != null ? 0 : 1]++;
                    check(c, accepted, where);
                } catch (AssertionError e) {
                    failures.putIfAbsent(c.kind(), e.getMessage());
                    if (e.getMessage().contains("hangs")) {
                        worker.shutdownNow(); // its thread is stuck in the reader; the next case gets a fresh one
                        worker = newWorker();
                    }
                }
            }
        } finally {
            worker.shutdownNow();
        }
        outcomes.forEach((kind, n) -> System.out.println("  " + kind + ": " + n[0] + " accepted, " + n[1] + " refused"));
        if (!failures.isEmpty()) {
            fail(failures.size() + " kinds of input failed (replay with -Dcairn.fuzz.seed=" + seed + "):\n  "
                    + String.join("\n  ", failures.values()));
        }
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tar-fuzz");
            t.setDaemon(true); // a reader that never returns must not keep the JVM alive
            return t;
        });
    }

    /** What the case expects of the outcome, and what every accepted manifest must be. */
    private static void check(TarCases.Case c, Manifest accepted, String where) {
        if (accepted == null) {
            if (c.expect() == TarCases.Expect.ACCEPT) {
                fail(where + ": a valid archive was refused");
            }
            return;
        }
        if (c.expect() == TarCases.Expect.REFUSE) {
            fail(where + ": an invalid archive was accepted as "
                    + accepted.entries().stream().map(e -> abbreviated(e.path())).toList());
        }
        assertSafe(accepted, where);
    }

    private static String abbreviated(String path) {
        return path.length() <= 40 ? path : path.substring(0, 37) + "...";
    }

    /** The manifest an input gives, or null when it was refused with the reader's error; anything else fails. */
    private static Manifest run(ExecutorService worker, TarCases.Case c, String where) throws InterruptedException {
        Future<Manifest> result = worker.submit(() -> {
            try (ChunkPipeline pipeline = new ChunkPipeline(ChunkingPolicy.DEFAULT, 1, false, 1, 2, chunk -> { })) {
                return new ImageBuilder(pipeline).fromTar(new ByteArrayInputStream(c.tar()), c.options());
            }
        });
        try {
            return result.get(CASE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            result.cancel(true);
            throw new AssertionError(where + ": no answer within " + CASE_TIMEOUT_MS + " ms (the reader hangs)");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (!(cause instanceof SourceException)) {
                throw new AssertionError(where + ": failed with " + cause + " instead of the reader's own error", cause);
            }
            String message = cause.getMessage();
            if (message == null || !(message.startsWith("tar: ") || message.startsWith("cannot read the tar archive: "))
                    || message.contains("Exception")) {
                throw new AssertionError(where + ": unclear refusal '" + message + "'", cause);
            }
            return null;
        }
    }

    /**
     * What a restore relies on: safe relative paths, each under a directory of the image (never a
     * symlink or a file), no path twice, file sizes that match their chunks, and a manifest that
     * encodes and decodes to itself.
     */
    static void assertSafe(Manifest m, String where) {
        Path root = Path.of("/restore-root");
        Map<String, FileType> types = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (FileEntry e : m.entries()) {
            String problem = EntryPaths.problem(e.path());
            if (problem != null) {
                fail(where + ": accepted an unsafe path: " + problem);
            }
            if (!root.resolve(e.path()).normalize().startsWith(root)) {
                fail(where + ": accepted a path that escapes: " + e.path());
            }
            if (!seen.add(e.path())) {
                fail(where + ": accepted '" + e.path() + "' twice");
            }
            int slash = e.path().lastIndexOf('/');
            if (slash > 0 && types.get(e.path().substring(0, slash)) != FileType.DIRECTORY) {
                fail(where + ": accepted '" + e.path() + "' whose parent is not a directory listed before it");
            }
            types.put(e.path(), e.type());
            long sum = e.chunks().stream().mapToLong(ChunkRef::rawLength).sum();
            if (e.type() == FileType.REGULAR && sum != e.size()) {
                fail(where + ": file '" + e.path() + "' of " + e.size() + " bytes has chunks of " + sum);
            }
        }
        try {
            if (!ManifestCodec.decode(ManifestCodec.encode(m)).equals(m)) {
                fail(where + ": the accepted manifest does not decode to itself");
            }
        } catch (RuntimeException x) {
            fail(where + ": the accepted manifest cannot be stored: " + x.getMessage());
        }
    }
}
