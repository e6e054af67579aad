package dev.cairn.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random directory trees for property tests: files (some CRIU page files), symlinks, modes, empty dirs and files. */
final class RandomTrees {

    private static final String[] FILE_MODES = {"rw-r--r--", "rw-------", "rwxr-xr-x", "rwx------", "r--r-----", "rwxr-x---"};
    private static final String[] DIR_MODES = {"rwxr-xr-x", "rwx------", "rwxr-x---", "r-xr-xr-x"};

    private RandomTrees() {}

    /** Writes a random tree into {@code root} (created) and returns it. */
    static Path create(Path root, Random random) throws IOException {
        Files.createDirectories(root);
        List<Path> dirs = new ArrayList<>(List.of(root));
        List<Path> readOnly = new ArrayList<>();
        byte[] shared = new byte[100_000];
        random.nextBytes(shared);
        int entries = 5 + random.nextInt(25);
        for (int i = 0; i < entries; i++) {
            Path parent = dirs.get(random.nextInt(dirs.size()));
            String name = name(random, i);
            Path p = parent.resolve(name);
            switch (random.nextInt(6)) {
                case 0 -> {
                    Files.createDirectory(p);
                    dirs.add(p);
                    if (random.nextInt(4) == 0) {
                        readOnly.add(p);
                    }
                }
                case 1 -> Files.createSymbolicLink(p, Path.of(random.nextBoolean() ? "../" + name(random, i + 1)
                        : "target-" + random.nextInt(1000)));
                case 2 -> Files.write(p, new byte[0]);
                case 3 -> {
                    // A CRIU page file: pages, some repeated, some zero.
                    Path pages = parent.resolve("pages-" + i + ".img");
                    byte[] data = new byte[4096 * (1 + random.nextInt(40))];
                    for (int page = 0; page < data.length / 4096; page++) {
                        if (random.nextInt(3) > 0) {
                            System.arraycopy(shared, random.nextInt(8) * 4096, data, page * 4096, 4096);
                        }
                    }
                    Files.write(pages, data);
                }
                default -> {
                    byte[] data = new byte[random.nextInt(random.nextBoolean() ? 2000 : 600_000)];
                    if (random.nextBoolean()) {
                        random.nextBytes(data);
                    } else {
                        for (int k = 0; k < data.length; k++) {
                            data[k] = shared[k % shared.length];
                        }
                    }
                    Files.write(p, data);
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(FILE_MODES[random.nextInt(FILE_MODES.length)]));
                }
            }
        }
        for (Path d : dirs) {
            if (!d.equals(root)) {
                String mode = readOnly.contains(d) ? "r-xr-xr-x" : DIR_MODES[random.nextInt(DIR_MODES.length - 1)];
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(mode));
            }
        }
        return root;
    }

    private static String name(Random random, int i) {
        String chars = "abcdefghijklmnopqrstuvwxyz0123456789._-";
        StringBuilder sb = new StringBuilder("e" + i + "-");
        int length = random.nextInt(10) == 0 ? 150 : 1 + random.nextInt(12);
        for (int k = 0; k < length; k++) {
            sb.append(chars.charAt(random.nextInt(chars.length())));
        }
        return sb.toString();
    }
}
