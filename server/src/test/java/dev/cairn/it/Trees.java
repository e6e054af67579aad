package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Compares two directory trees: the same entries, types, modes, symlink targets and bytes. */
final class Trees {

    private Trees() {}

    static void assertSameTree(Path expected, Path actual) throws IOException {
        Map<String, String> a = describe(expected);
        Map<String, String> b = describe(actual);
        assertEquals(a.keySet(), b.keySet(), "entries differ");
        for (String path : a.keySet()) {
            assertEquals(a.get(path), b.get(path), "entry " + path + " differs");
            Path x = expected.resolve(path);
            Path y = actual.resolve(path);
            if (Files.isRegularFile(x, LinkOption.NOFOLLOW_LINKS)) {
                assertEquals(-1L, Files.mismatch(x, y), "bytes of " + path + " differ");
            }
        }
    }

    private static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (p.equals(root)) {
                    continue;
                }
                String rel = root.relativize(p).toString();
                int mode = ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 07777;
                if (Files.isSymbolicLink(p)) {
                    entries.put(rel, "symlink -> " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    entries.put(rel, "dir " + Integer.toOctalString(mode));
                } else {
                    entries.put(rel, "file " + Integer.toOctalString(mode) + " " + Files.size(p));
                }
            }
        }
        return entries;
    }
}
