package dev.cairn.engine.image;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * The generated inputs of {@link TarFuzzTest}: small real archives, and mutations of them that a
 * reader must refuse (whatever else it does), may refuse, or must accept.
 */
final class TarCases {

    /** What the reader must do with a case. */
    enum Expect { ACCEPT, REFUSE, EITHER }

    /** One generated input. */
    record Case(String kind, byte[] tar, TarOptions options, Expect expect) {}

    private record Kind(String name, BiFunction<Random, String, Case> make) {}

    private TarCases() {}

    private static final List<Kind> KINDS = List.of(
            new Kind("valid", (r, k) -> new Case(k, archive(r, t -> { }), TarOptions.STRICT, Expect.ACCEPT)),
            new Kind("valid-record-padded", (r, k) -> {
                byte[] tar = archive(r, t -> { });
                return new Case(k, Arrays.copyOf(tar, (tar.length / 10240 + 1) * 10240), TarOptions.STRICT, Expect.ACCEPT);
            }),
            new Kind("valid-allow-truncated", (r, k) -> new Case(k, archive(r, t -> { }), TarOptions.ALLOW_TRUNCATED, Expect.ACCEPT)),
            new Kind("valid-global-header", (r, k) -> new Case(k, archive(r, t -> t.extension(Tar.PAX_GLOBAL,
                    FuzzTar.utf8(FuzzTar.record("comment", "x".repeat(r.nextInt(700)))))), TarOptions.STRICT, Expect.ACCEPT)),
            new Kind("symlink-escaping-target", (r, k) -> new Case(k, archive(r, t -> t.symlink("hlink",
                    pick(r, "../../etc", "/etc/passwd", "../" + "x".repeat(150)))), TarOptions.STRICT, Expect.ACCEPT)),
            new Kind("directory-twice", (r, k) -> new Case(k, archive(r, t -> t.directory("hdir", 0755).directory("hdir", 0700)),
                    TarOptions.STRICT, Expect.ACCEPT)),
            new Kind("header-flip", (r, k) -> headerFlip(r, k, false)),
            new Kind("header-flip-fixed", (r, k) -> headerFlip(r, k, true)),
            new Kind("checksum-garbage", TarCases::checksumGarbage),
            new Kind("bad-octal", TarCases::badOctal),
            new Kind("huge-size", TarCases::hugeSize),
            new Kind("truncate", (r, k) -> truncate(r, k, TarOptions.STRICT)),
            new Kind("truncate-allowed", (r, k) -> truncate(r, k, TarOptions.ALLOW_TRUNCATED)),
            new Kind("extension-over-limit", (r, k) -> refuse(k, archive(r, t -> t.extensionClaiming(
                    pickByte(r, Tar.GNU_LONG_NAME, Tar.GNU_LONG_LINK, Tar.PAX_EXTENDED),
                    Tar.MAX_META_BYTES + 1 + (r.nextBoolean() ? r.nextInt(1000) : (long) r.nextInt(Integer.MAX_VALUE) << 8))))),
            new Kind("pax-malformed", (r, k) -> refuse(k, archive(r, t -> t.extension(Tar.PAX_EXTENDED, malformedPax(r))
                    .file("hpax", 0644, new byte[3])))),
            new Kind("pax-bad-size", (r, k) -> refuse(k, archive(r, t -> t.pax("size",
                    pick(r, "-1", "abc", "99999999999999999999", "", "0x10")).file("hsize", 0644, new byte[0])))),
            new Kind("pax-sparse", (r, k) -> refuse(k, archive(r, t -> t.pax(pick(r, "GNU.sparse.map", "GNU.sparse.size",
                    "GNU.sparse.major"), "1").file("hsparse", 0644, new byte[0])))),
            new Kind("traversal", TarCases::traversal),
            new Kind("entry-below-symlink", (r, k) -> below(r, k, t -> t.symlink("hs", pick(r, "/etc", "..", "../..", "d")))),
            new Kind("entry-below-file", (r, k) -> below(r, k, t -> t.file("hs", 0644, new byte[1]))),
            new Kind("duplicate", TarCases::duplicate),
            new Kind("special-type", TarCases::specialType),
            new Kind("empty-symlink-target", (r, k) -> refuse(k, archive(r, t -> t.symlink("hempty", "")))),
            new Kind("symlink-target-too-long", (r, k) -> refuse(k, archive(r, t -> t.symlink("hlong",
                    "t/".repeat(2049 + r.nextInt(5000)))))),
            new Kind("lone-zero-block", (r, k) -> refuse(k, archive(r, t -> t.zeroBlock().file("hafter", 0644, new byte[5])))),
            new Kind("dangling-extension", TarCases::danglingExtension),
            new Kind("file-named-root", (r, k) -> refuse(k, archive(r, t -> t.file(pick(r, ".", "./", "./."), 0644, new byte[7])))),
            new Kind("gnu-name-garbage", (r, k) -> either(k, archive(r, t -> t.extension(
                    pickByte(r, Tar.GNU_LONG_NAME, Tar.GNU_LONG_LINK), bytes(r, 1 + r.nextInt(300))).file("hg", 0644, new byte[2])))),
            new Kind("pax-garbage", (r, k) -> either(k, archive(r, t -> t.extension(Tar.PAX_EXTENDED,
                    bytes(r, 1 + r.nextInt(600))).file("hp", 0644, new byte[2])))),
            new Kind("any-flip", TarCases::anyFlip),
            new Kind("block-shuffle", TarCases::blockShuffle),
            new Kind("random-bytes", (r, k) -> either(k, bytes(r, r.nextInt(4 * Tar.BLOCK)))));

    /** The case of seed {@code seed}: a kind chosen by it, then built from it. */
    static Case next(long seed) {
        Random r = new Random(seed);
        Kind kind = KINDS.get(r.nextInt(KINDS.size()));
        return kind.make().apply(r, kind.name());
    }

    static List<String> kinds() {
        return KINDS.stream().map(Kind::name).toList();
    }

    // --- archives -------------------------------------------------------------------------

    private interface Insert {
        void into(FuzzTar t);
    }

    /** A small archive of 1-6 real entries, with {@code hostile} written among them. */
    private static byte[] archive(Random r, Insert hostile) {
        return build(r, hostile).finish();
    }

    private static FuzzTar build(Random r, Insert hostile) {
        FuzzTar t = new FuzzTar(r);
        int n = 1 + r.nextInt(6);
        int at = r.nextInt(n + 1);
        java.util.List<String> dirs = new java.util.ArrayList<>(List.of(""));
        for (int i = 0; i < n; i++) {
            if (i == at) {
                hostile.into(t);
            }
            String parent = dirs.get(r.nextInt(dirs.size()));
            String name = "e" + i + (r.nextInt(5) == 0 ? "-" + "n".repeat(100 + r.nextInt(120)) : "");
            String path = parent.isEmpty() ? name : parent + "/" + name;
            switch (r.nextInt(5)) {
                case 0, 1 -> {
                    t.directory(path, pickInt(r, 0755, 0700, 02775, 01777));
                    dirs.add(path);
                }
                case 2 -> t.symlink(path, pick(r, "../x", "target", "/abs/" + "l".repeat(r.nextInt(200))));
                default -> t.file(path, pickInt(r, 0644, 0755, 04755, 0600), bytes(r, pickInt(r, 0, 1, 100, 511, 512, 513, 1500, 5000)));
            }
        }
        if (at == n) {
            hostile.into(t);
        }
        return t;
    }

    // --- mutations ------------------------------------------------------------------------

    private static Case headerFlip(Random r, String kind, boolean fixChecksum) {
        FuzzTar t = build(r, x -> { });
        byte[] tar = t.finish();
        int header = t.headers.get(r.nextInt(t.headers.size()));
        int offset;
        do {
            offset = r.nextInt(Tar.BLOCK);
        } while (offset >= 148 && offset < 156);
        tar[header + offset] ^= (byte) (1 + r.nextInt(255));
        if (fixChecksum) {
            FuzzTar.checksum(tar, header);
            return either(kind, tar);
        }
        return refuse(kind, tar); // the stored checksum no longer matches
    }

    private static Case checksumGarbage(Random r, String kind) {
        FuzzTar t = build(r, x -> { });
        byte[] tar = t.finish();
        int header = t.headers.get(r.nextInt(t.headers.size()));
        tar[header + 148 + r.nextInt(6)] = (byte) pickInt(r, '8', '9', 'x', '-', ':', 'Z');
        return refuse(kind, tar);
    }

    /** A non-octal character among the digits of a size or mode field, checksum fixed. */
    private static Case badOctal(Random r, String kind) {
        FuzzTar t = build(r, x -> { });
        byte[] tar = t.finish();
        int header = r.nextBoolean() ? t.entryHeaders.get(r.nextInt(t.entryHeaders.size()))
                : t.headers.get(r.nextInt(t.headers.size()));
        boolean size = r.nextBoolean();
        int at = header + (size ? 124 + r.nextInt(11) : 100 + r.nextInt(7));
        tar[at] = (byte) pickInt(r, '8', '9', 'x', '-', ':', 'Z', '+');
        FuzzTar.checksum(tar, header);
        return refuse(kind, tar);
    }

    /** A size far beyond the archive (octal 8 GiB or base-256 up to 2^62), checksum fixed. */
    private static Case hugeSize(Random r, String kind) {
        FuzzTar t = build(r, x -> { });
        byte[] tar = t.finish();
        int header = t.headers.get(r.nextInt(t.headers.size()));
        if (r.nextBoolean()) {
            FuzzTar.put(tar, header + 124, 12, "77777777777");
        } else {
            FuzzTar.base256(tar, header + 124, 12, (1L << 33) + (r.nextLong() >>> 2));
        }
        FuzzTar.checksum(tar, header);
        return refuse(kind, tar);
    }

    /** Cut anywhere before the end of the second end block, often at a boundary. */
    private static Case truncate(Random r, String kind, TarOptions options) {
        FuzzTar t = build(r, x -> { });
        byte[] tar = t.finish();
        int end = tar.length; // the second zero block ends here
        int cut = switch (r.nextInt(7)) {
            case 0 -> t.headers.get(r.nextInt(t.headers.size()));
            case 1 -> t.headers.get(r.nextInt(t.headers.size())) + 1 + r.nextInt(Tar.BLOCK - 1);
            case 2 -> t.endAt;
            case 3 -> t.endAt + Tar.BLOCK;
            case 4 -> t.endAt + 1 + r.nextInt(2 * Tar.BLOCK - 1);
            case 5 -> {
                if (t.data.isEmpty()) {
                    yield 0;
                }
                FuzzTar.Region d = t.data.get(r.nextInt(t.data.size()));
                yield d.at() + r.nextInt(d.length() + Tar.BLOCK);
            }
            default -> r.nextInt(end);
        };
        cut = Math.min(cut, end - 1);
        byte[] cutOff = Arrays.copyOf(tar, cut);
        return options.allowTruncated() ? new Case(kind, cutOff, options, Expect.EITHER) : refuse(kind, cutOff);
    }

    private static byte[] malformedPax(Random r) {
        String good = FuzzTar.record("path", "hpax-name");
        String bad = switch (r.nextInt(8)) {
            case 0 -> "ab" + good.substring(2); // length is not a number
            case 1 -> (good.length() + 1 + r.nextInt(1000)) + good.substring(good.indexOf(' ')); // longer than the body
            case 2 -> good.replace('=', '_'); // no '='
            case 3 -> good.substring(0, good.length() - 1) + "x"; // no newline
            case 4 -> good + pick(r, "2147483647", "2147483600", "4294967296", "99999999999") + " path=x\n"; // overflow
            case 5 -> "-5 path=x\n";
            case 6 -> "0 \n";
            default -> good.substring(0, 1 + r.nextInt(good.length() - 1)); // cut short
        };
        return FuzzTar.utf8(bad);
    }

    private static Case traversal(Random r, String kind) {
        String path = pick(r, "../x", "a/../../x", "/etc/passwd", "./../x", "a//b", "x/./y", "..", "//x",
                "d/" + "p".repeat(4100), "d/".repeat(130) + "deep", "../" + "n".repeat(150));
        byte type = pickByte(r, Tar.REGULAR, Tar.DIRECTORY, Tar.SYMLINK);
        byte[] tar = archive(r, t -> {
            if (r.nextInt(4) == 0) {
                t.pax("path", r.nextBoolean() ? path : "nul\0inside").special("PaxNamed", type, "target");
            } else if (type == Tar.REGULAR) {
                t.file(path, 0644, new byte[3]);
            } else if (type == Tar.DIRECTORY) {
                t.directory(path, 0755);
            } else {
                t.symlink(path, "target");
            }
        });
        return refuse(kind, tar);
    }

    /** An entry written through a symlink or a file of the archive, before or after it. */
    private static Case below(Random r, String kind, Insert parent) {
        Insert child = t -> t.file("hs/" + pick(r, "passwd", "d/x"), 0644, new byte[2]);
        return refuse(kind, archive(r, t -> {
            if (r.nextBoolean()) {
                parent.into(t);
                child.into(t);
            } else {
                child.into(t);
                parent.into(t);
            }
        }));
    }

    private static Case duplicate(Random r, String kind) {
        return refuse(kind, archive(r, t -> {
            switch (r.nextInt(4)) {
                case 0 -> t.file("hdup", 0644, new byte[1]).file("hdup", 0644, new byte[2]);
                case 1 -> t.file("hdup", 0644, new byte[1]).directory("hdup", 0755);
                case 2 -> t.symlink("hdup", "x").file("hdup", 0644, new byte[1]);
                default -> t.directory("hdup", 0755).symlink("hdup", "x");
            }
        }));
    }

    private static Case specialType(Random r, String kind) {
        byte type;
        do {
            type = (byte) pickInt(r, '1', '3', '4', '6', 'S', 'V', 'M', 'N', 'A' + r.nextInt(26), 'a' + r.nextInt(26), r.nextInt(256));
        } while (type == Tar.REGULAR || type == Tar.REGULAR_OLD || type == Tar.CONTIGUOUS || type == Tar.DIRECTORY
                || type == Tar.SYMLINK || type == Tar.GNU_LONG_NAME || type == Tar.GNU_LONG_LINK
                || type == Tar.PAX_EXTENDED || type == Tar.PAX_GLOBAL);
        byte t = type;
        return refuse(kind, archive(r, a -> a.special("hspecial", t, "e0")));
    }

    /** An extension header that describes no entry: the end of the archive follows it. */
    private static Case danglingExtension(Random r, String kind) {
        FuzzTar t = build(r, x -> { });
        if (r.nextBoolean()) {
            t.pax("path", "hdangling");
        } else {
            t.extension(Tar.GNU_LONG_NAME, FuzzTar.utf8("hdangling\0"));
        }
        return refuse(kind, t.finish());
    }

    private static Case anyFlip(Random r, String kind) {
        byte[] tar = archive(r, t -> { });
        for (int i = 1 + r.nextInt(8); i > 0; i--) {
            tar[r.nextInt(tar.length)] ^= (byte) (1 + r.nextInt(255));
        }
        return either(kind, tar);
    }

    private static Case blockShuffle(Random r, String kind) {
        byte[] tar = archive(r, t -> { });
        int blocks = tar.length / Tar.BLOCK;
        int a = r.nextInt(blocks);
        int b = r.nextInt(blocks);
        if (r.nextBoolean()) {
            byte[] swap = Arrays.copyOfRange(tar, a * Tar.BLOCK, (a + 1) * Tar.BLOCK);
            System.arraycopy(tar, b * Tar.BLOCK, tar, a * Tar.BLOCK, Tar.BLOCK);
            System.arraycopy(swap, 0, tar, b * Tar.BLOCK, Tar.BLOCK);
            return either(kind, tar);
        }
        byte[] longer = new byte[tar.length + Tar.BLOCK]; // block a written twice
        System.arraycopy(tar, 0, longer, 0, (a + 1) * Tar.BLOCK);
        System.arraycopy(tar, a * Tar.BLOCK, longer, (a + 1) * Tar.BLOCK, tar.length - a * Tar.BLOCK);
        return either(kind, longer);
    }

    // --- helpers --------------------------------------------------------------------------

    private static Case refuse(String kind, byte[] tar) {
        return new Case(kind, tar, TarOptions.STRICT, Expect.REFUSE);
    }

    private static Case either(String kind, byte[] tar) {
        return new Case(kind, tar, TarOptions.STRICT, Expect.EITHER);
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... choices) {
        return choices[r.nextInt(choices.length)];
    }

    private static int pickInt(Random r, int... choices) {
        return choices[r.nextInt(choices.length)];
    }

    private static byte pickByte(Random r, byte... choices) {
        return choices[r.nextInt(choices.length)];
    }
}
