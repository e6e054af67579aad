package dev.cairn.client.criu;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.Lineage;
import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.ImageInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes a restored incremental image self-contained: each pagemap entry flagged in-parent is
 * replaced by its pages, read from the ancestors in the store (walking the chain as far as the
 * pages are), so the pagemaps have no in-parent entry, each {@code pages-N.img} holds every page
 * and the {@code parent} link goes (docs/criu.md, Lineage).
 */
public final class PagemapFlattener {

    /** What a flattening did: pagemaps rewritten and pages brought in from ancestors. */
    public record Result(int pagemaps, long pagesFromAncestors) {}

    /** Pages read from the store at once: 1 MiB, so a large in-parent range never sits in memory whole. */
    private static final int PAGES_PER_READ = 256;

    private final CairnClient client;
    private final List<StoredImage> ancestors = new ArrayList<>();
    private final Map<String, StoredPagemap> parsed = new HashMap<>();
    private long pagesFromAncestors;

    private PagemapFlattener(CairnClient client) {
        this.client = client;
    }

    /**
     * Flattens {@code dir}, where image {@code child} was just restored as it is stored: its
     * ancestors are read from the store through {@code client}. An image without a parent is
     * left as it is.
     */
    public static Result flatten(CairnClient client, ImageInfo child, Path dir) {
        if (child.parent() == null) {
            return new Result(0, 0);
        }
        PagemapFlattener f = new PagemapFlattener(client);
        for (ImageInfo at = child; at.parent() != null; ) {
            if (f.ancestors.size() == Lineage.MAX_CHAIN) {
                throw new CairnException("image " + child.name() + " has more than " + Lineage.MAX_CHAIN
                        + " ancestors, the most a get reads; " + dir + " holds the image as stored, not flattened");
            }
            at = client.stat(at.parent().value());
            f.ancestors.add(StoredImage.open(client, at.name().value()));
        }
        try {
            int rewritten = 0;
            for (Path pagemap : pagemaps(dir)) {
                if (f.rewrite(dir, pagemap)) {
                    rewritten++;
                }
            }
            Path link = dir.resolve("parent");
            if (Files.isSymbolicLink(link)) {
                Files.delete(link);
            }
            fsync(dir);
            return new Result(rewritten, f.pagesFromAncestors);
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot flatten image " + child.name() + " in " + dir + ": " + e.getMessage()
                    + "; the directory is not self-contained (some pagemaps may be rewritten already): remove it and get"
                    + " again into a new directory", e);
        }
    }

    private static List<Path> pagemaps(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "pagemap-*.img")) {
            for (Path p : files) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.add(p);
                }
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * Writes the pagemap and its pages file anew when an entry is in-parent: present entries keep
     * their pages (read from the local pages file), in-parent ones get theirs from the chain and
     * become present; then both replace the originals (temporary files, fsync'd, renamed).
     */
    private boolean rewrite(Path dir, Path pagemapFile) throws IOException {
        String name = pagemapFile.getFileName().toString();
        StoredPagemap local = StoredPagemap.parse(name, Files.readAllBytes(pagemapFile));
        if (local.entries().stream().noneMatch(e -> inParent(e.flags()))) {
            return false;
        }
        Path pagesFile = dir.resolve(pagesName(local.pagesId()));
        Path newPages = dir.resolve(pagesFile.getFileName() + ".flattening");
        Path newPagemap = dir.resolve(name + ".flattening");
        PagemapImage image = new PagemapImage(local.pagesId(), Integer.MAX_VALUE);
        try (FileChannel out = FileChannel.open(newPages, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             FileChannel in = Files.exists(pagesFile) ? FileChannel.open(pagesFile, StandardOpenOption.READ) : null) {
            for (StoredPagemap.Entry e : local.entries()) {
                if (PageFlags.present(e.flags())) {
                    copyLocal(in, e, out, pagesFile);
                } else if (inParent(e.flags())) {
                    fromAncestor(0, name, e.vaddr(), e.nrPages(), out);
                } else {
                    image.add(e.vaddr(), e.nrPages(), e.flags()); // neither: no pages to carry
                    continue;
                }
                image.add(e.vaddr(), e.nrPages(), (e.flags() & ~PageFlags.PARENT) | PageFlags.PRESENT);
            }
            out.force(true);
        }
        Files.write(newPagemap, image.bytes(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SYNC);
        Files.move(newPages, pagesFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(newPagemap, pagemapFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    private static void copyLocal(FileChannel in, StoredPagemap.Entry e, FileChannel out, Path pagesFile)
            throws IOException {
        long from = e.firstPage() * PageServerCodec.PAGE_BYTES;
        long length = e.nrPages() * PageServerCodec.PAGE_BYTES;
        if (in == null || in.size() < from + length) {
            throw new IOException(pagesFile.getFileName() + " ends before the pages its pagemap says it holds");
        }
        for (long done = 0; done < length; ) {
            done += in.transferTo(from + done, length - done, out);
        }
    }

    /**
     * Writes {@code nrPages} pages from {@code vaddr} as ancestor {@code depth} (0 the parent)
     * holds them: its present entries' pages, and for its own in-parent entries its parent's.
     */
    private void fromAncestor(int depth, String pagemapName, long vaddr, long nrPages, FileChannel out) throws IOException {
        if (depth == ancestors.size()) {
            throw new IOException("the pages at 0x" + Long.toHexString(vaddr) + " of " + pagemapName
                    + " are in-parent in the oldest image of the chain, which has no parent");
        }
        StoredImage image = ancestors.get(depth);
        StoredPagemap pagemap = pagemap(depth, image, pagemapName);
        long va = vaddr;
        for (long left = nrPages; left > 0; ) {
            StoredPagemap.Entry e = entryAt(pagemap, va);
            if (e == null || !(PageFlags.present(e.flags()) || inParent(e.flags()))) {
                throw new IOException("the pages at 0x" + Long.toHexString(va) + " of " + pagemapName
                        + " are in-parent, but image " + image.name() + " holds no pages there");
            }
            long take = Math.min(left, (e.end() - va) / PageServerCodec.PAGE_BYTES);
            if (PageFlags.present(e.flags())) {
                long first = e.firstPage() + (va - e.vaddr()) / PageServerCodec.PAGE_BYTES;
                copyStored(image, pagesName(pagemap.pagesId()), first, take, out);
            } else {
                fromAncestor(depth + 1, pagemapName, va, take, out);
            }
            va += take * PageServerCodec.PAGE_BYTES;
            left -= take;
        }
    }

    private void copyStored(StoredImage image, String pagesName, long firstPage, long pages, FileChannel out)
            throws IOException {
        FileEntry file = image.file(pagesName);
        if (file == null) {
            throw new IOException("image " + image.name() + " has no " + pagesName);
        }
        for (long done = 0; done < pages; ) {
            int n = (int) Math.min(PAGES_PER_READ, pages - done);
            byte[] bytes = image.read(file, (firstPage + done) * PageServerCodec.PAGE_BYTES, n * PageServerCodec.PAGE_BYTES);
            if (bytes == null) {
                throw new IOException(pagesName + " of image " + image.name() + " ends before the pages its pagemap"
                        + " says it holds");
            }
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                out.write(b);
            }
            done += n;
            pagesFromAncestors += n;
        }
    }

    private StoredPagemap pagemap(int depth, StoredImage image, String pagemapName) throws IOException {
        String key = depth + "/" + pagemapName;
        StoredPagemap p = parsed.get(key);
        if (p == null) {
            FileEntry file = image.file(pagemapName);
            if (file == null) {
                throw new IOException("image " + image.name() + " has no " + pagemapName + ", which its child's"
                        + " in-parent pages need");
            }
            p = StoredPagemap.parse(pagemapName, image.readAll(file));
            parsed.put(key, p);
        }
        return p;
    }

    private static StoredPagemap.Entry entryAt(StoredPagemap pagemap, long vaddr) {
        // CRIU writes a pagemap's entries in address order, without overlaps.
        List<StoredPagemap.Entry> entries = pagemap.entries();
        int low = 0;
        int high = entries.size() - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            StoredPagemap.Entry e = entries.get(mid);
            if (Long.compareUnsigned(vaddr, e.vaddr()) < 0) {
                high = mid - 1;
            } else if (Long.compareUnsigned(vaddr, e.end()) >= 0) {
                low = mid + 1;
            } else {
                return e;
            }
        }
        return null;
    }

    private static boolean inParent(int flags) {
        return (flags & PageFlags.PARENT) != 0 && !PageFlags.present(flags);
    }

    private static String pagesName(long pagesId) {
        return "pages-" + pagesId + ".img";
    }

    private static void fsync(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
