package dev.cairn.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The shared corpus of real CRIU checkpoint images, unpacked on demand. Its location comes from
 * the {@code cairn.corpus} system property (the build sets it to the shared folder beside the
 * checkout); when it is absent the tests that need it are skipped with a message.
 */
final class Corpus {

    static final String ARCHIVE = "criu-real-small.tar.zst";

    private Corpus() {}

    /** Where the corpus archive is, or empty when this machine has none. */
    static Optional<Path> archive() {
        String dir = System.getProperty("cairn.corpus");
        if (dir == null) {
            return Optional.empty();
        }
        Path archive = Path.of(dir, ARCHIVE);
        return Files.isRegularFile(archive) ? Optional.of(archive) : Optional.empty();
    }

    /** Unpacks one dump folder (for example {@code sim/dump-1}) into {@code into} and returns its path. */
    static Path unpack(Path archive, String dump, Path into) throws IOException, InterruptedException {
        Files.createDirectories(into);
        Process p = new ProcessBuilder("sh", "-c", "zstd -dc \"$0\" | tar -x -C \"$1\" \"$2\"",
                archive.toString(), into.toString(), dump)
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("cannot unpack " + dump + " from " + archive + " (needs zstd and tar): " + output);
        }
        return into.resolve(dump);
    }
}
