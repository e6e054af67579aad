package dev.cairn.server.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The directory of segment files: their names, their listing, and the fsync that makes a name durable. */
final class SegmentFiles {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentFiles.class);

    private final Path dir;

    SegmentFiles(Path dir) {
        this.dir = dir;
    }

    Path path(int segment) {
        return dir.resolve(SegmentRecord.fileName(segment));
    }

    long size(int segment) throws IOException {
        return Files.size(path(segment));
    }

    /** The segment numbers present, in order; other files are logged and ignored. */
    List<Integer> list() throws IOException {
        List<Integer> numbers = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                int number = SegmentRecord.segmentNumber(file);
                if (number < 0) {
                    LOG.warn("ignoring {} in the segments directory: not a segment file", file.getFileName());
                } else {
                    numbers.add(number);
                }
            }
        }
        numbers.sort(null);
        return numbers;
    }

    long totalBytes() throws IOException {
        long total = 0;
        for (int segment : list()) {
            total += size(segment);
        }
        return total;
    }

    /** Makes the creation or removal of a segment file durable. */
    void fsyncDirectory() throws IOException {
        fsyncDirectory(dir);
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("closing a segment file failed", e);
        }
    }
}
