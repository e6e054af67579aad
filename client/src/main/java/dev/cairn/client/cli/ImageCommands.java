package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.GetResult;
import dev.cairn.client.ProgressListener;
import dev.cairn.client.PutResult;
import dev.cairn.engine.manifest.ImageInfo;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** put, get, ls, stat and rm. */
final class ImageCommands {

    private ImageCommands() {}

    static final class Shared {
        @Option(names = "--cluster", paramLabel = "HOST:PORT,...", description = "nodes to contact (default: $CAIRN_CLUSTER)")
        String cluster;

        @Option(names = "--json", description = "print one JSON object as the last line on stdout")
        boolean json;

        @Option(names = "--verbose", description = "print stack traces of errors")
        boolean verbose;

        @Option(names = "--token-file", paramLabel = "FILE", description = "the access token to present "
                + "(default: $CAIRN_TOKEN_FILE; none when unset)")
        java.nio.file.Path tokenFile;

        /** An admin client of its own, for the admin commands, which always run in their own process. */
        dev.cairn.client.CairnAdmin admin() {
            return dev.cairn.client.CairnAdmin.connect(config());
        }

        /** The client of an image command: the process's own, or the agent's for that cluster. */
        ClientUse client() {
            return client(dev.cairn.config.ClientConfig.DEFAULT_ZSTD_LEVEL);
        }

        ClientUse client(int zstdLevel) {
            Invocation.Clients clients = Invocation.current().clients();
            return new ClientUse(clients.open(config().withZstdLevel(zstdLevel)), clients);
        }

        /**
         * --cluster and --token-file, or else the CAIRN_CLUSTER and CAIRN_TOKEN_FILE of whoever runs the
         * command (this process, or the agent's caller, never the agent's own); TLS when that caller's
         * CAIRN_TLS_CA names the cluster's CA. Relative files are the caller's.
         */
        private dev.cairn.config.ClientConfig config() {
            Invocation caller = Invocation.current();
            String ca = caller.tlsCaEnv() == null || caller.tlsCaEnv().isBlank() ? null
                    : caller.workingDir().resolve(caller.tlsCaEnv()).toString();
            return dev.cairn.config.ClientConfig.parse(cluster != null ? cluster : caller.clusterEnv())
                    .withToken(tokenFile != null ? TokenFile.read(caller.workingDir().resolve(tokenFile))
                            : TokenFile.fromVariable(caller.tokenFileEnv(), caller.workingDir()))
                    .withTls(dev.cairn.config.ClientConfig.tlsFromEnv(ca));
        }
    }

    /** A command's client, given back to where it came from when the command ends. */
    record ClientUse(CairnClient client, Invocation.Clients from) implements AutoCloseable {
        @Override
        public void close() {
            from.release(client);
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = "Stores a directory, a file or stdin (-) as image NAME. Returns once every chunk is fsync'd "
                    + "on a write quorum and the image is committed in the Raft log.",
            footer = {"", "Examples:", "  cairn put job-7/ckpt-1 /var/lib/criu/dump-1", "  tar -c dir | cairn put job-7/archive -",
                "  cairn put --tar pod-3/ckpt checkpoint.tar"})
    static final class Put implements Callable<Integer> {
        @Mixin
        Shared shared;

        @Option(names = "--tar", description = "PATH (or - for stdin) is a tar archive; store its entries as a directory image")
        boolean tar;

        @Option(names = "--allow-truncated-tar", description = "with --tar: store an archive that ends without its "
                + "end-of-archive blocks (cut off at an entry's end) as far as it arrived; refused by default")
        boolean allowTruncatedTar;

        @Parameters(index = "0", paramLabel = "NAME", description = "image name: segments of [A-Za-z0-9._-] separated by /")
        String name;

        @Parameters(index = "1", paramLabel = "PATH", description = "a directory, a file, or - for stdin")
        String path;

        @Option(names = "--parent", paramLabel = "PARENT", description = "the image this directory was dumped on "
                + "(CRIU's incremental dumps); by default the image its top-level 'parent' link names, read relative to "
                + "NAME (job/ckpt-2 with ../ckpt-1 is job/ckpt-1). The parent must be stored, and stays while this image does")
        String parent;

        @picocli.CommandLine.Option(names = "--zstd-level", paramLabel = "N", defaultValue = "3",
                description = "zstd level for the chunks, -7..19 (default: ${DEFAULT-VALUE}; lower is faster, higher smaller)")
        int zstdLevel;

        private PutResult putTarFile(CairnClient cairn, ProgressListener progress) {
            return putTarFileImpl(cairn, name, Invocation.current().path(path), putOptions(), progress);
        }

        private dev.cairn.client.PutOptions putOptions() {
            return allowTruncatedTar ? dev.cairn.client.PutOptions.DEFAULT.withAllowTruncatedTar()
                    : dev.cairn.client.PutOptions.DEFAULT;
        }

        @Override
        public Integer call() {
            if (allowTruncatedTar && !tar) {
                throw new CairnException("--allow-truncated-tar is about tar archives; add --tar, or leave it out");
            }
            if (parent != null && (tar || path.equals("-"))) {
                throw new CairnException("--parent is about a directory of CRIU images; put the directory, or leave it out");
            }
            try (ClientUse use = shared.client(zstdLevel)) {
                CairnClient cairn = use.client();
                Invocation invocation = Invocation.current();
                ProgressListener progress = ProgressBar.of(invocation, "put " + name);
                PutResult r;
                try {
                    if (tar) {
                        r = path.equals("-") ? cairn.putTar(name, System.in, putOptions(), progress)
                                : putTarFile(cairn, progress);
                    } else {
                        r = path.equals("-") ? cairn.put(name, System.in, progress)
                                : cairn.put(name, invocation.path(path), parent, progress);
                    }
                } finally {
                    if (progress instanceof ProgressBar bar) {
                        bar.finish();
                    }
                }
                printStored(invocation, r, shared.json);
                return 0;
            }
        }
    }

    private static PutResult putTarFileImpl(CairnClient cairn, String name, Path path, dev.cairn.client.PutOptions options,
                                            ProgressListener progress) {
        try (java.io.InputStream in = new java.io.BufferedInputStream(interruptibleInput(path), 1 << 20)) {
            return cairn.putTar(name, in, options, progress);
        } catch (java.io.IOException e) {
            throw new CairnException.LocalIo("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The file's bytes through a channel, so that a put the agent stops (its caller went away) is
     * not left blocked reading a pipe: an interrupt closes the channel and ends the read. The
     * channel's stream answers {@code available()} from the channel's position, which a pipe
     * ({@code cairn put --tar NAME <(tar -c DIR)}) does not have, so that question is not passed on.
     */
    private static java.io.InputStream interruptibleInput(Path path) throws java.io.IOException {
        java.io.InputStream channel = java.nio.channels.Channels.newInputStream(java.nio.channels.FileChannel.open(path));
        return new java.io.FilterInputStream(channel) {
            @Override
            public int available() {
                return 0;
            }
        };
    }

    static final int IO_BUFFER_BYTES = 1 << 20;

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "Lists images, one a line: name, logical size in bytes, creation time (tab-separated).",
            footer = {"", "Example:", "  cairn ls job-7/"})
    static final class Ls implements Callable<Integer> {
        @Mixin
        Shared shared;

        @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX", description = "only names starting with this")
        String prefix = "";

        @Override
        public Integer call() {
            try (ClientUse use = shared.client()) {
                CairnClient cairn = use.client();
                Invocation invocation = Invocation.current();
                List<ImageInfo> images = cairn.list(prefix);
                List<Map<String, Object>> json = new ArrayList<>();
                for (ImageInfo i : images) {
                    invocation.out().println(i.name() + "\t" + i.root().logicalBytes() + "\t" + Instant.ofEpochMilli(i.root().createdMillis()));
                    json.add(describe(i));
                }
                if (images.size() >= CairnClient.MAX_LIST) {
                    invocation.err().println("cairn: showing the first " + CairnClient.MAX_LIST + " images; narrow the list with a PREFIX");
                }
                if (shared.json) {
                    Output.json(invocation.out(), Map.of("images", json));
                }
                return 0;
            }
        }
    }

    @Command(name = "stat", mixinStandardHelpOptions = true,
            description = "Shows image NAME: files, logical size, chunks, stored size, commit index, and the parent "
                    + "image of an incremental dump.",
            footer = {"", "Example:", "  cairn stat job-7/ckpt-1"})
    static final class Stat implements Callable<Integer> {
        @Mixin
        Shared shared;

        @Parameters(index = "0", paramLabel = "NAME", description = "image name")
        String name;

        @Override
        public Integer call() {
            try (ClientUse use = shared.client()) {
                CairnClient cairn = use.client();
                Invocation invocation = Invocation.current();
                ImageInfo i = cairn.stat(name);
                invocation.out().println("name:         " + i.name());
                invocation.out().println("files:        " + i.root().fileCount());
                invocation.out().println("logical size: " + i.root().logicalBytes() + " (" + Output.bytes(i.root().logicalBytes()) + ")");
                invocation.out().println("chunks:       " + i.root().chunkCount());
                invocation.out().println("stored size:  " + i.root().storedBytes() + " (" + Output.bytes(i.root().storedBytes()) + ")");
                invocation.out().println("commit index: " + i.commitIndex());
                invocation.out().println("created:      " + Instant.ofEpochMilli(i.root().createdMillis()));
                if (i.parent() != null) {
                    invocation.out().println("parent:       " + i.parent());
                }
                if (shared.json) {
                    Output.json(invocation.out(), describe(i));
                }
                return 0;
            }
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = "Deletes image NAME. Its chunks are freed when garbage collection finds them unreferenced. "
                    + "Refused while another image names NAME as its parent: remove that image first.",
            footer = {"", "Example:", "  cairn rm job-7/ckpt-1"})
    static final class Rm implements Callable<Integer> {
        @Mixin
        Shared shared;

        @Parameters(index = "0", paramLabel = "NAME", description = "image name")
        String name;

        @Override
        public Integer call() {
            try (ClientUse use = shared.client()) {
                CairnClient cairn = use.client();
                Invocation invocation = Invocation.current();
                long index = cairn.delete(name);
                invocation.out().println("deleted " + name + " (commit index " + index + ")");
                if (shared.json) {
                    Output.json(invocation.out(), Map.of("name", name, "commitIndex", index));
                }
                return 0;
            }
        }
    }

    static Map<String, Object> describe(ImageInfo i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", i.name().value());
        m.put("files", i.root().fileCount());
        m.put("logicalBytes", i.root().logicalBytes());
        m.put("chunks", i.root().chunkCount());
        m.put("storedBytes", i.root().storedBytes());
        m.put("commitIndex", i.commitIndex());
        m.put("created", Instant.ofEpochMilli(i.root().createdMillis()).toString());
        if (i.parent() != null) {
            m.put("parent", i.parent().value());
        }
        return m;
    }

    /** What a put prints: the one line, and with --json the object scripts read ({@code put}, {@code criu dump}). */
    static void printStored(Invocation invocation, PutResult r, boolean json) {
        invocation.out().println("stored " + r.name() + ": " + Output.bytes(r.logicalBytes()) + " in " + r.chunks()
                + " chunks (" + r.newChunks() + " new), sent " + Output.bytes(r.sentBytes()) + ", commit index "
                + r.commitIndex());
        if (json) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("name", r.name());
            j.put("logicalBytes", r.logicalBytes());
            j.put("sentBytes", r.sentBytes());
            j.put("chunks", r.chunks());
            j.put("newChunks", r.newChunks());
            j.put("storedBytes", r.storedBytes());
            j.put("commitIndex", r.commitIndex());
            Output.json(invocation.out(), j);
        }
    }
}
