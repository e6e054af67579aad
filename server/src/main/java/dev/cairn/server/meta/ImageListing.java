package dev.cairn.server.meta;

import dev.cairn.engine.manifest.ImageInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One listing over several name prefixes (a token's, when it lists wider than each of them): one
 * catalog read per prefix, all at once, merged in name order and cut at the limit, so the answer
 * is what one read over the union would give, with the same limit. Each prefix's part is read as
 * a single-prefix listing is (linearizable, or a session read); the parts are not one snapshot,
 * which a listing of disjoint ranges does not need: each image in it was there during the call.
 */
public final class ImageListing {

    private static final Comparator<ImageInfo> BY_NAME = Comparator.comparing(i -> i.name().value());

    private ImageListing() {}

    /** Linearizable listing of the images under any of {@code prefixes}, sorted, at most {@code limit}. */
    public static CompletableFuture<List<ImageInfo>> list(MetaService meta, List<String> prefixes, int limit) {
        if (prefixes.size() == 1) {
            return meta.listImages(prefixes.get(0), limit);
        }
        return all(prefixes, p -> meta.listImages(p, limit)).thenApply(parts -> merge(parts, limit));
    }

    /**
     * As {@link #list}, as a session read; it reports the highest index a part was served at, so
     * the client's next read sees at least everything this one showed.
     */
    public static CompletableFuture<MetaService.SessionRead> listAtLeast(MetaService meta, List<String> prefixes,
                                                                          int limit, long minIndex) {
        if (prefixes.size() == 1) {
            return meta.listImagesAtLeast(prefixes.get(0), limit, minIndex);
        }
        return all(prefixes, p -> meta.listImagesAtLeast(p, limit, minIndex)).thenApply(parts -> {
            long served = parts.stream().mapToLong(MetaService.SessionRead::servedIndex).max().orElse(minIndex);
            return new MetaService.SessionRead(merge(parts.stream().map(MetaService.SessionRead::images).toList(), limit),
                    served);
        });
    }

    /** The images of every part in name order, at most {@code limit}. */
    static List<ImageInfo> merge(List<List<ImageInfo>> parts, int limit) {
        List<ImageInfo> all = new ArrayList<>();
        parts.forEach(all::addAll);
        all.sort(BY_NAME);
        return List.copyOf(all.subList(0, Math.min(limit, all.size())));
    }

    private static <T> CompletableFuture<List<T>> all(List<String> prefixes, Function<String, CompletableFuture<T>> read) {
        List<CompletableFuture<T>> reads = prefixes.stream().map(read).toList();
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
                .thenApply(done -> reads.stream().map(CompletableFuture::join).toList());
    }
}
