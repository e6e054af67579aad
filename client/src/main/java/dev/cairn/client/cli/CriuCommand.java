package dev.cairn.client.cli;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.ProgressListener;
import dev.cairn.client.PutResult;
import dev.cairn.client.criu.CriuDump;
import dev.cairn.client.criu.LazyImageDir;
import dev.cairn.client.criu.LazyPageServer;
import dev.cairn.client.criu.LazyRestores;
import dev.cairn.client.criu.StoredImage;
import dev.cairn.client.criu.PageServerLimits;
import dev.cairn.client.criu.PageServerListener;
import dev.cairn.config.PageServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn criu dump}, {@code page-server} and {@code lazy-pages}: CRIU dumps whose pages stream into Cairn and back (docs/criu.md). */
@Command(name = "criu", mixinStandardHelpOptions = true,
        description = "CRIU dumps whose pages stream straight into the store through CRIU's page-server protocol.",
        footer = {"", "Example:", "  cairn criu dump job-7/ckpt-1 -- -t 4242 --shell-job"},
        subcommands = {CriuCommand.Dump.class, CriuCommand.PageServer.class, CriuCommand.LazyPages.class})
final class CriuCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Where the page server listens; shared by both subcommands. */
    static final class Listen {
        @Option(names = "--address", paramLabel = "A", defaultValue = "127.0.0.1",
                description = "address the page server listens on (default: ${DEFAULT-VALUE})")
        String address;

        @Option(names = "--port", paramLabel = "P", defaultValue = "0",
                description = "port the page server listens on (default: a free one)")
        int port;

        PageServerListener bind(PageServerLimits limits) {
            return bind(limits, 1);
        }

        /** A listener that queues up to {@code waiting} connections (lazy restores beyond those served at once). */
        PageServerListener bind(PageServerLimits limits, int waiting) {
            try {
                return PageServerListener.bind(InetAddress.getByName(address), port, limits, waiting);
            } catch (IOException e) {
                throw new CairnException.LocalIo(e.getMessage(), e);
            }
        }
    }

    /** The page server's limits (dev.cairn.config.PageServerConfig): defaults with their reasons in docs/configuration.md. */
    static final class Limits {
        @Option(names = "--idle-timeout", paramLabel = "SECONDS",
                description = "how long criu may send nothing (and a lazy restore may take to connect) before it is "
                        + "given up (default: 300)")
        Long idleTimeoutSeconds;

        @Option(names = "--max-pages-per-message", paramLabel = "N",
                description = "the most pages one page-server message may carry or ask for (default: 65536)")
        Integer maxPagesPerMessage;

        @Option(names = "--max-pagemap-entries", paramLabel = "N",
                description = "the most entries one pagemap may have (default: 1048576)")
        Integer maxPagemapEntries;

        /** The limits these flags set, the others at their defaults; a bad value is refused with its name. */
        PageServerLimits limits() {
            return limits(null);
        }

        PageServerLimits limits(Integer maxLazyRestores) {
            PageServerConfig d = PageServerConfig.DEFAULT;
            return PageServerLimits.of(new PageServerConfig(
                    maxPagesPerMessage != null ? maxPagesPerMessage : d.maxPagesPerMessage(),
                    maxPagemapEntries != null ? maxPagemapEntries : d.maxPagemapEntries(),
                    idleTimeoutSeconds != null ? java.time.Duration.ofSeconds(idleTimeoutSeconds) : d.idleTimeout(),
                    maxLazyRestores != null ? maxLazyRestores : d.maxLazyRestores()));
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Runs criu dump with its pages sent to a page server of this command, and stores the dump as "
                    + "image NAME: the pages never touch the local disk, the rest of the dump (written to a temporary "
                    + "directory) joins them, and the image commits once criu has exited 0.",
            footer = {"", "Example:", "  cairn criu dump job-7/ckpt-1 -- -t 4242 --shell-job"})
    static final class Dump implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Mixin
        Listen listen;

        @Mixin
        Limits limits;

        @Option(names = "--criu", paramLabel = "PATH", defaultValue = "criu",
                description = "the criu binary (default: ${DEFAULT-VALUE}, from PATH)")
        String criu;

        @Parameters(index = "0", paramLabel = "NAME", description = "image name: segments of [A-Za-z0-9._-] separated by /")
        String name;

        @Parameters(index = "1..*", arity = "0..*", paramLabel = "CRIU-ARGS",
                description = "after --: what criu dump needs besides -D and the page server (-t PID, --shell-job, ...)")
        List<String> criuArgs = new ArrayList<>();

        @Override
        public Integer call() {
            Path dir;
            try {
                dir = Files.createTempDirectory("cairn-criu-dump-");
            } catch (IOException e) {
                throw new CairnException.LocalIo("cannot make a directory for criu's other image files: " + e.getMessage(), e);
            }
            try {
                PageServerLimits pageServer = limits.limits();
                PageServerListener listener = listen.bind(pageServer);
                List<String> command = new ArrayList<>(List.of(criu, "dump", "-D", dir.toString(), "--page-server",
                        "--address", listen.address, "--port", Integer.toString(listener.port())));
                command.addAll(criuArgs);
                return store(shared, name, listener, command, dir, "criu dump " + name, pageServer);
            } finally {
                deleteQuietly(dir);
            }
        }
    }

    @Command(name = "page-server", mixinStandardHelpOptions = true,
            description = "Serves one dump's pages to COMMAND (runc checkpoint --page-server, or criu dump --page-server "
                    + "run by another tool) and stores them, with the --images-dir directory once COMMAND has exited 0, as image NAME.",
            footer = {"", "Example:", "  cairn criu page-server job-7/ckpt-1 --port 27000 --images-dir /tmp/ckpt -- \\",
                "      runc checkpoint --page-server 127.0.0.1:27000 --image-path /tmp/ckpt job-7"})
    static final class PageServer implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Mixin
        Listen listen;

        @Mixin
        Limits limits;

        @Option(names = "--images-dir", paramLabel = "DIR", required = true,
                description = "the directory COMMAND has criu write its other image files to (criu -D, runc --image-path)")
        Path imagesDir;

        @Parameters(index = "0", paramLabel = "NAME", description = "image name: segments of [A-Za-z0-9._-] separated by /")
        String name;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND",
                description = "after --: the command that dumps, pointed at this page server's address and --port")
        List<String> command;

        @Override
        public Integer call() {
            PageServerLimits pageServer = limits.limits();
            PageServerListener listener = listen.bind(pageServer);
            Invocation.current().err().println("page server for " + name + " listening on " + listen.address + ":"
                    + listener.port());
            return store(shared, name, listener, command, Invocation.current().path(imagesDir.toString()),
                    "criu page-server " + name, pageServer);
        }
    }

    @Command(name = "lazy-pages", mixinStandardHelpOptions = true,
            description = "Writes image NAME into --images-dir, its pages-*.img only with the pages criu restore reads "
                    + "itself (the lazy ones left as holes), then serves the lazy pages to one criu lazy-pages "
                    + "--page-server connection, each read from the store when criu asks for it. "
                    + "Exits 0 once lazy-pages has closed the connection after its last page. "
                    + "With --restores N (N > 1) it writes the image into DIR/1 ... DIR/N, one directory per restore, "
                    + "and serves N connections, each on its own thread, then exits: 0 when every one closed after its "
                    + "last page, else 1.",
            footer = {"", "Example:", "  cairn criu lazy-pages job-7/ckpt-1 --port 27000 --images-dir /tmp/lazy &",
                "  criu lazy-pages --page-server --address 127.0.0.1 --port 27000 -D /tmp/lazy &",
                "  criu restore --lazy-pages -D /tmp/lazy --shell-job",
                "", "Four restores of one image (each in its own PID namespace or container):",
                "  cairn criu lazy-pages job-7/ckpt-1 --port 27000 --images-dir /tmp/lazy --restores 4 &",
                "  criu lazy-pages --page-server --address 127.0.0.1 --port 27000 -D /tmp/lazy/1 &",
                "  criu restore --lazy-pages -D /tmp/lazy/1 --shell-job    # and so on for 2, 3 and 4"})
    static final class LazyPages implements Callable<Integer> {
        @Mixin
        ImageCommands.Shared shared;

        @Mixin
        Listen listen;

        @Mixin
        Limits limits;

        @Option(names = "--images-dir", paramLabel = "DIR", required = true,
                description = "a new or empty directory for the image's files, pages files sparse (criu lazy-pages and "
                        + "criu restore --lazy-pages -D); with --restores N, its subdirectories 1 to N")
        Path imagesDir;

        @Option(names = "--restores", paramLabel = "N", defaultValue = "1",
                description = "how many lazy restores to serve before exiting (default: ${DEFAULT-VALUE}); at most "
                        + "the page server's maxLazyRestores are served at once, the others wait their turn")
        int restores;

        @Option(names = "--max-lazy-restores", paramLabel = "N",
                description = "the most restores served at once (default: 16)")
        Integer maxLazyRestores;

        @Parameters(index = "0", paramLabel = "NAME", description = "image name: segments of [A-Za-z0-9._-] separated by /")
        String name;

        @Override
        public Integer call() {
            if (restores < 1 || restores > PageServerConfig.MAX_LAZY_RESTORES) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--restores must be 1.."
                        + PageServerConfig.MAX_LAZY_RESTORES + " (each gets a directory of the image's files), not " + restores);
            }
            Invocation invocation = Invocation.current();
            PageServerLimits pageServer = limits.limits(maxLazyRestores);
            try (ImageCommands.ClientUse use = shared.client()) {
                StoredImage image = StoredImage.open(use.client(), name);
                Path dir = invocation.path(imagesDir.toString());
                List<Path> dirs = new ArrayList<>();
                for (int i = 1; i <= restores; i++) {
                    dirs.add(restores == 1 ? dir : dir.resolve(Integer.toString(i)));
                }
                int files = LazyImageDir.write(image, dirs);
                PageServerListener listener = listen.bind(pageServer, restores);
                invocation.children().closeWhenCallerLeaves(listener); // in the agent: no restore is awaited for a caller gone
                invocation.err().println(restores == 1
                        ? "wrote " + files + " files of " + name + " to " + imagesDir + "; serving its pages on "
                                + listen.address + ":" + listener.port()
                        : "wrote " + files + " files of " + name + " to each of " + imagesDir.resolve("1") + " ... "
                                + imagesDir.resolve(Integer.toString(restores)) + "; serving its pages to " + restores
                                + " restores on " + listen.address + ":" + listener.port());
                invocation.err().flush();
                LazyPageServer server = new LazyPageServer(image, pageServer, invocation.err());
                return report(invocation, server, LazyRestores.serve(listener, server, restores, pageServer, invocation.err()));
            } catch (IOException e) {
                throw new CairnException.LocalIo(e.getMessage(), e);
            }
        }

        /** Prints what was served (and its JSON); 0 when every restore closed its conversation, else 1. */
        private int report(Invocation invocation, LazyPageServer server, LazyRestores.Outcome outcome) {
            invocation.out().println("served " + server.pagesServed() + " pages of " + name + " in "
                    + server.requests() + " requests" + (restores == 1 ? "" : " to " + restores + " restores"));
            if (shared.json) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("name", name);
                j.put("pagesServed", server.pagesServed());
                j.put("requests", server.requests());
                j.put("restores", outcome.restores());
                j.put("failedRestores", outcome.failed());
                Output.json(invocation.out(), j);
            }
            if (outcome.allClosed()) {
                return 0;
            }
            invocation.err().println(restores == 1
                    ? "cairn: the lazy restore did not finish its conversation; see criu's restore and lazy-pages "
                            + "logs for why"
                    : "cairn: " + outcome.failed() + " of " + restores + " lazy restores did not finish their "
                            + "conversation; see the lines above and criu's restore and lazy-pages logs for why");
            return 1;
        }

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;
    }

    private static int store(ImageCommands.Shared shared, String name, PageServerListener listener, List<String> command,
                             Path imagesDir, String what, PageServerLimits limits) {
        Invocation invocation = Invocation.current();
        try (ImageCommands.ClientUse use = shared.client()) {
            CairnClient cairn = use.client();
            ProgressListener progress = ProgressBar.of(invocation, what);
            PutResult r;
            try {
                r = CriuDump.run(cairn, name, listener, command, imagesDir, invocation.err(), limits, progress,
                        invocation.children().launcher());
            } catch (IOException e) {
                throw new CairnException.LocalIo(e.getMessage(), e);
            } finally {
                if (progress instanceof ProgressBar bar) {
                    bar.finish();
                }
            }
            ImageCommands.printStored(invocation, r, shared.json);
            return 0;
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is the system's to clean
        }
    }
}
