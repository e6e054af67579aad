package dev.cairn.client;

import dev.cairn.engine.manifest.FileEntry;
import dev.cairn.engine.manifest.FileType;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.engine.manifest.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A get that brings an image's ancestors back beside it: each ancestor goes where the stored
 * {@code parent} link of its child points, read from the child's restored directory, so plain
 * {@code criu restore -D DEST} finds them as it found them at dump time. Every place is checked
 * before anything is written.
 */
final class ParentChain {

    /** One image of the chain and the directory it is restored into. */
    record Step(ImageInfo image, Path dir) {}

    private ParentChain() {}

    /**
     * The images to restore and where: {@code child} into {@code dest}, then each ancestor while
     * its child's stored {@code parent} link is relative (an absolute link, or none, is restored
     * as it is and ends the chain: Cairn writes only under places the link names relative to
     * DEST). Refuses, before anything is written, a place that exists and is not an empty
     * directory, a link that points into another image's place, and one that points anywhere but
     * beside DEST (a sibling of it, as CRIU's {@code --prev-images-dir ../ckpt-1} makes): an image
     * is written by whoever put it, and a get, often run as root, must not let its link choose
     * where on the host files appear.
     */
    static List<Step> plan(ImageInfo child, Path dest, Function<ImageInfo, Manifest> manifests,
                           Function<String, ImageInfo> stat) {
        List<Step> steps = new ArrayList<>();
        Path dir = dest.toAbsolutePath().normalize();
        steps.add(new Step(child, dir));
        if (child.parent() == null) {
            return steps; // a plain get: the restore itself checks its destination
        }
        requireFree(dir, child, null);
        ImageInfo current = child;
        while (current.parent() != null) {
            String target = linkTarget(manifests.apply(current));
            if (target == null || Path.of(target).isAbsolute()) {
                break;
            }
            if (steps.size() > Lineage.MAX_CHAIN) {
                throw new CairnException("image " + child.name() + " has more than " + Lineage.MAX_CHAIN
                        + " ancestors, the most a get brings back; use get --flatten");
            }
            Path next = dir.resolve(target).normalize();
            Path beside = steps.get(0).dir().getParent();
            if (beside == null || !beside.equals(next.getParent())) {
                throw new CairnException.LocalIo("cannot restore the parents of " + child.name() + ": the parent link of "
                        + current.name() + " ('" + target + "') points to " + next + ", not beside " + steps.get(0).dir()
                        + "; a get writes parents only next to DEST: use get --flatten; nothing was written", null);
            }
            ImageInfo parent = stat.apply(current.parent().value());
            for (Step s : steps) {
                if (next.startsWith(s.dir()) || s.dir().startsWith(next)) {
                    throw new CairnException.LocalIo("cannot restore the parents of " + child.name() + ": the parent link"
                            + " of " + current.name() + " ('" + target + "') points to " + next + ", which overlaps the"
                            + " restore of " + s.image().name() + " in " + s.dir() + "; use get --flatten", null);
                }
            }
            requireFree(next, parent, current);
            steps.add(new Step(parent, next));
            dir = next;
            current = parent;
        }
        return steps;
    }

    /** The target of a manifest's top-level {@code parent} symlink, or null. */
    static String linkTarget(Manifest manifest) {
        for (FileEntry e : manifest.entries()) {
            if (e.path().equals(Lineage.LINK) && e.type() == FileType.SYMLINK) {
                return e.linkTarget();
            }
        }
        return null;
    }

    /** Refuses a place that exists and is not an empty directory. */
    private static void requireFree(Path dir, ImageInfo image, ImageInfo child) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String what = child == null ? "cannot restore " + image.name() + " into " + dir
                : "cannot restore " + image.name() + " (the parent of " + child.name() + ", where its parent link points)"
                + " into " + dir;
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new CairnException.LocalIo(what + ": it exists and is not a directory; nothing was written", null);
        }
        try (Stream<Path> children = Files.list(dir)) {
            if (children.findAny().isPresent()) {
                throw new CairnException.LocalIo(what + ": the directory is not empty; " + (child == null
                        ? "pass a new or empty directory" : "move it away, or use get --flatten for one self-contained image")
                        + "; nothing was written", null);
            }
        } catch (IOException e) {
            throw new CairnException.LocalIo(what + ": " + Failures.local(e), e);
        }
    }
}
