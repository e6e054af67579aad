package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.GetResult;
import dev.cairn.client.ProgressListener;
import dev.cairn.client.RestoreOptions;
import dev.cairn.client.criu.PageServerCodec;
import dev.cairn.client.criu.PagemapFlattener;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** get: an image into a directory (with its parents, or flattened), a tar or stdout. */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = "Restores image NAME into directory DEST (created; must be empty), or to stdout with -. "
                + "Every chunk is verified against its SHA-256; files and directories are fsync'd before success. "
                + "An incremental CRIU image (one with a parent) brings its parents along: each goes where the stored "
                + "'parent' link points from DEST (e.g. DEST/../ckpt-1), which must be new or empty, so criu restore "
                + "-D DEST finds them; --flatten writes one self-contained image instead.",
        footer = {"", "Examples:", "  cairn get job-7/ckpt-1 /tmp/restore", "  cairn get job-7/archive - | tar -x",
            "  cairn get --tar job-7/ckpt-1 - | tar -t", "  cairn get --flatten job-7/ckpt-3 /tmp/ckpt-3-flat"})
final class GetCommand implements Callable<Integer> {
    @Mixin
    ImageCommands.Shared shared;

    @Option(names = "--tar", description = "write the image as a tar archive to DEST (a file, created; or - for stdout)")
    boolean tar;

    @Option(names = "--keep-setid", description = "keep the setuid and setgid bits of the image's files and "
            + "directories (stripped by default: an image from another host or tenant could plant a setuid binary); "
            + "also in --tar output")
    boolean keepSetId;

    @Option(names = "--flatten", description = "write one self-contained CRIU image into directory DEST: no 'parent' "
            + "link, and the pages of every pagemap entry its parents held (in-parent) copied in from them")
    boolean flatten;

    @Parameters(index = "0", paramLabel = "NAME", description = "image name")
    String name;

    @Parameters(index = "1", paramLabel = "DEST", description = "a new or empty directory, or - for stdout")
    String dest;

    /** What --flatten did, for the output; null otherwise. */
    private PagemapFlattener.Result flattened;

    private RestoreOptions restoreOptions() {
        return keepSetId ? RestoreOptions.DEFAULT.withKeepSetId() : RestoreOptions.DEFAULT;
    }

    private GetResult getTarFile(CairnClient cairn, ProgressListener progress) throws java.io.IOException {
        Path file = Invocation.current().path(dest);
        try {
            // Never overwrite a file the user already has.
            java.nio.file.Files.createFile(file);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new CairnException.LocalIo("cannot write " + dest + ": the file exists; pass a new file name", e);
        }
        try (java.io.FileOutputStream fileOut = new java.io.FileOutputStream(file.toFile());
             OutputStream out = new BufferedOutputStream(fileOut, ImageCommands.IO_BUFFER_BYTES)) {
            GetResult r = cairn.getTar(name, out, restoreOptions(), progress);
            out.flush();
            // The archive is on disk before success is reported.
            fileOut.getFD().sync();
            return r;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (flatten && (tar || dest.equals("-"))) {
            throw new CairnException("--flatten writes a directory of CRIU images; pass a directory DEST, without --tar");
        }
        try (ImageCommands.ClientUse use = shared.client()) {
            CairnClient cairn = use.client();
            Invocation invocation = Invocation.current();
            ProgressListener progress = ProgressBar.of(invocation, "get " + name);
            List<GetResult> results;
            try {
                results = write(cairn, invocation, progress);
            } finally {
                if (progress instanceof ProgressBar bar) {
                    bar.finish();
                }
            }
            if (!dest.equals("-")) {
                print(invocation, results);
            }
            return 0;
        }
    }

    /** The results of the images written: the image itself first, then its parents (directory gets only). */
    private List<GetResult> write(CairnClient cairn, Invocation invocation, ProgressListener progress) throws Exception {
        if (tar && dest.equals("-")) {
            OutputStream out = new BufferedOutputStream(invocation.out(), ImageCommands.IO_BUFFER_BYTES);
            GetResult r = cairn.getTar(name, out, restoreOptions(), progress);
            out.flush();
            return List.of(r);
        } else if (tar) {
            return List.of(getTarFile(cairn, progress));
        } else if (dest.equals("-")) {
            OutputStream out = new BufferedOutputStream(invocation.out(), ImageCommands.IO_BUFFER_BYTES);
            GetResult r = cairn.get(name, out, progress);
            out.flush();
            return List.of(r);
        } else if (flatten) {
            // As CairnClient.getFlattened, in its two steps, so the output can say what flattening did.
            Path to = invocation.path(dest);
            GetResult r = cairn.get(name, to, restoreOptions(), progress);
            flattened = PagemapFlattener.flatten(cairn, cairn.stat(name), to);
            return List.of(r);
        }
        return cairn.getWithParents(name, invocation.path(dest), restoreOptions(), progress);
    }

    private void print(Invocation invocation, List<GetResult> results) {
        GetResult r = results.get(0);
        invocation.out().println("restored " + r.name() + " into " + dest + ": " + Output.bytes(r.logicalBytes())
                + ", " + r.entries() + " entries");
        List<String> parents = new ArrayList<>();
        for (int i = 1; i < results.size(); i++) {
            GetResult p = results.get(i);
            parents.add(p.name());
            invocation.out().println("restored parent " + p.name() + " of " + results.get(i - 1).name() + ": "
                    + Output.bytes(p.logicalBytes()) + ", " + p.entries() + " entries");
        }
        if (flattened != null) {
            invocation.out().println("flattened " + r.name() + ": " + flattened.pagemaps() + " pagemaps rewritten, "
                    + flattened.pagesFromAncestors() + " pages (" + Output.bytes(flattened.pagesFromAncestors()
                    * PageServerCodec.PAGE_BYTES) + ") copied in from its parents, no parent link");
        }
        if (shared.json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("name", r.name());
            j.put("logicalBytes", r.logicalBytes());
            j.put("entries", r.entries());
            j.put("chunks", r.chunks());
            if (!parents.isEmpty()) {
                j.put("parents", parents);
            }
            if (flattened != null) {
                j.put("flattenedPagemaps", flattened.pagemaps());
                j.put("pagesFromParents", flattened.pagesFromAncestors());
            }
            Output.json(invocation.out(), j);
        }
    }
}
