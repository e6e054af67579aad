package dev.cairn.client;

import dev.cairn.engine.ImageName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * CRIU's incremental images as image names: the top-level {@code parent} symlink of a dump
 * directory names the previous dump's directory, which Cairn reads as a path relative to the
 * image's own name ({@code job/ckpt-2} with {@code ../ckpt-1} is {@code job/ckpt-1}).
 */
public final class Lineage {

    /** The name of CRIU's link to the previous dump, at the top of an images directory. */
    public static final String LINK = "parent";

    /**
     * The longest chain of parents a get follows. The catalog cannot hold a cycle (a parent is
     * stored before its child and stays while it has one), so this only bounds a get's work and
     * names the limit: incremental dumps are usually re-based long before 1000 steps.
     */
    public static final int MAX_CHAIN = 1000;

    private Lineage() {}

    /** The target of {@code dir}'s top-level {@code parent} symlink, or null when it has none. */
    static String linkOf(Path dir) {
        Path link = dir.resolve(LINK);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !Files.isSymbolicLink(link)) {
            return null;
        }
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            throw new CairnException.LocalIo("cannot read the parent link " + link + ": " + e.getMessage(), e);
        }
    }

    /**
     * The image a link names, read as a path from {@code child}'s name as a directory; null
     * when it names no image that way (an absolute path, one that climbs above the names' root,
     * or a segment no name may have).
     */
    static ImageName resolve(ImageName child, String target) {
        if (target.isEmpty() || target.startsWith("/")) {
            return null;
        }
        // The link sits inside the image's directory, so it is read from the image's own name.
        Deque<String> segments = new ArrayDeque<>(List.of(child.value().split("/")));
        for (String s : target.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (segments.isEmpty()) {
                    return null;
                }
                segments.removeLast();
            } else {
                segments.addLast(s);
            }
        }
        String name = String.join("/", segments);
        return ImageName.problem(name) == null ? new ImageName(name) : null;
    }

    /**
     * The parent a put of {@code source} as {@code child} records: {@code explicit} when given
     * (--parent), else the one its {@code parent} link names, else none (null).
     */
    static ImageName parentOf(ImageName child, Path source, String explicit) {
        if (explicit != null) {
            ImageName parent;
            try {
                parent = new ImageName(explicit);
            } catch (ImageName.InvalidNameException e) {
                throw new CairnException.InvalidName("--parent: " + e.getMessage());
            }
            if (parent.equals(child)) {
                throw new CairnException.InvalidName("--parent names " + child + " itself; an image cannot be its own parent");
            }
            return parent;
        }
        String target = linkOf(source);
        if (target == null) {
            return null;
        }
        ImageName parent = resolve(child, target);
        if (parent == null) {
            throw new CairnException.InvalidName("the parent link of " + source + " points to '" + target
                    + "', which names no image when read from " + child + "; name the image it was dumped on"
                    + " with --parent NAME");
        }
        if (parent.equals(child)) {
            throw new CairnException.InvalidName("the parent link of " + source + " points to '" + target
                    + "', which is " + child + " itself; name the image it was dumped on with --parent NAME");
        }
        return parent;
    }
}
