package dev.cairn.client.criu;

import dev.cairn.engine.manifest.FileEntry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The images directory a lazy restore needs: every file of a stored dump, but each {@code
 * pages-N.img} only with the pages {@code criu restore --lazy-pages} reads itself (present, not
 * lazy: stacks, file-backed private mappings) at their offsets, the lazy pages left as holes of
 * a sparse file; the lazy page server hands those out on demand instead.
 */
public final class LazyImageDir {

    private static final Pattern PAGES = Pattern.compile("pages-[0-9]+\\.img");

    private LazyImageDir() {}

    /** Pages read from the store per write of a sparse pages file: bounds memory for long entries. */
    private static final int PAGES_PER_READ = 256;

    /** True for a file the lazy restore leaves mostly in the store: a {@code pages-N.img}. */
    static boolean isPages(String path) {
        int slash = path.lastIndexOf('/');
        return PAGES.matcher(path.substring(slash + 1)).matches();
    }

    /**
     * Writes the regular files of {@code image} into {@code dir} (new or empty), its pages files
     * sparse with only their non-lazy pages; returns how many files were written.
     */
    public static int write(StoredImage image, Path dir) throws IOException {
        return write(image, List.of(dir));
    }

    /**
     * Writes the same files into each of {@code dirs} (each new or empty: criu restore and criu
     * lazy-pages keep their socket and logs in their images directory, so each restore needs one
     * of its own), reading each byte from the store once; returns how many files each dir got.
     */
    public static int write(StoredImage image, List<Path> dirs) throws IOException {
        List<Path> roots = new ArrayList<>(dirs.size());
        for (Path dir : dirs) {
            Files.createDirectories(dir);
            try (var existing = Files.list(dir)) {
                if (existing.findAny().isPresent()) {
                    throw new IOException("cannot write the images of " + image.name() + " into " + dir
                            + ": the directory is not empty; give a new or empty one");
                }
            }
            roots.add(dir.toAbsolutePath().normalize());
        }
        Map<String, StoredPagemap> pagemapOf = pagemapsByPagesFile(image);
        int written = 0;
        for (FileEntry file : image.files()) {
            List<Path> targets = new ArrayList<>(roots.size());
            for (Path root : roots) {
                Path target = root.resolve(file.path()).normalize();
                if (!target.startsWith(root) || target.equals(root)) {
                    throw new IOException("image " + image.name() + " names a file outside its directory (" + file.path()
                            + "); it is not a dump Cairn stored, so nothing more is written");
                }
                Files.createDirectories(target.getParent());
                targets.add(target);
            }
            StoredPagemap pagemap = pagemapOf.get(file.path());
            if (isPages(file.path()) && pagemap != null) {
                writeSparse(image, file, pagemap, targets);
            } else {
                byte[] bytes = image.readAll(file);
                for (Path target : targets) {
                    Files.write(target, bytes);
                }
            }
            written++;
        }
        return written;
    }

    /** Each pages file's pagemap, by the pages file's path (a pagemap names its pages file by id). */
    private static Map<String, StoredPagemap> pagemapsByPagesFile(StoredImage image) {
        Map<String, StoredPagemap> byPages = new HashMap<>();
        for (FileEntry file : image.files()) {
            int slash = file.path().lastIndexOf('/');
            String base = file.path().substring(slash + 1);
            if (base.startsWith("pagemap-") && base.endsWith(".img")) {
                StoredPagemap pagemap = StoredPagemap.read(image, file);
                byPages.put(file.path().substring(0, slash + 1) + "pages-" + pagemap.pagesId() + ".img", pagemap);
            }
        }
        return byPages;
    }

    /** The pages file at its full length, with only the present, non-lazy entries' pages written, in each target. */
    private static void writeSparse(StoredImage image, FileEntry file, StoredPagemap pagemap, List<Path> targets)
            throws IOException {
        List<RandomAccessFile> outs = new ArrayList<>(targets.size());
        try {
            for (Path target : targets) {
                RandomAccessFile out = new RandomAccessFile(target.toFile(), "rw");
                outs.add(out);
                out.setLength(file.size());
            }
            for (StoredPagemap.Entry e : pagemap.entries()) {
                if (!PageFlags.present(e.flags()) || (e.flags() & PageFlags.LAZY) != 0) {
                    continue;
                }
                for (long done = 0; done < e.nrPages(); done += PAGES_PER_READ) {
                    long pages = Math.min(PAGES_PER_READ, e.nrPages() - done);
                    long offset = (e.firstPage() + done) * PageServerCodec.PAGE_BYTES;
                    byte[] bytes = image.read(file, offset, (int) pages * PageServerCodec.PAGE_BYTES);
                    if (bytes == null) {
                        throw new IOException(file.path() + " of image " + image.name() + " is shorter than its pagemap "
                                + "says; the image is not a whole dump");
                    }
                    for (RandomAccessFile out : outs) {
                        out.seek(offset);
                        out.write(bytes);
                    }
                }
            }
            for (RandomAccessFile out : outs) {
                out.getFD().sync();
            }
        } finally {
            for (RandomAccessFile out : outs) {
                out.close();
            }
        }
    }
}
