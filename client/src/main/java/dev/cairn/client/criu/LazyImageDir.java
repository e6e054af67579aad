package dev.cairn.client.criu;

import dev.cairn.engine.manifest.FileEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The images directory a lazy restore needs: every file of a stored dump except its {@code
 * pages-*.img}, whose pages the lazy page server hands out on demand instead.
 */
public final class LazyImageDir {

    private static final Pattern PAGES = Pattern.compile("pages-[0-9]+\\.img");

    private LazyImageDir() {}

    /** True for a file the lazy restore leaves in the store: a {@code pages-N.img}. */
    static boolean isPages(String path) {
        int slash = path.lastIndexOf('/');
        return PAGES.matcher(path.substring(slash + 1)).matches();
    }

    /**
     * Writes the regular files of {@code image} but its pages files into {@code dir} (new or
     * empty); returns how many files were written.
     */
    public static int write(StoredImage image, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (var existing = Files.list(dir)) {
            if (existing.findAny().isPresent()) {
                throw new IOException("cannot write the images of " + image.name() + " into " + dir
                        + ": the directory is not empty; give a new or empty one");
            }
        }
        Path root = dir.toAbsolutePath().normalize();
        int written = 0;
        for (FileEntry file : image.files()) {
            if (isPages(file.path())) {
                continue;
            }
            Path target = root.resolve(file.path()).normalize();
            if (!target.startsWith(root) || target.equals(root)) {
                throw new IOException("image " + image.name() + " names a file outside its directory (" + file.path()
                        + "); it is not a dump Cairn stored, so nothing more is written");
            }
            Files.createDirectories(target.getParent());
            Files.write(target, image.readAll(file));
            written++;
        }
        return written;
    }
}
