package dev.cairn.engine.manifest;

import java.nio.charset.StandardCharsets;

/** Rules for the relative paths of image entries, shared by the codec and the restore code. */
public final class EntryPaths {

    private EntryPaths() {}

    /** Why {@code path} is not a safe relative entry path, or null when it is. */
    public static String problem(String path) {
        if (path.isEmpty()) {
            return "an entry has an empty path";
        }
        if (path.getBytes(StandardCharsets.UTF_8).length > ManifestCodec.MAX_PATH_BYTES) {
            return "entry path is longer than " + ManifestCodec.MAX_PATH_BYTES + " bytes";
        }
        if (path.startsWith("/")) {
            return "entry path '" + path + "' is absolute";
        }
        if (path.indexOf('\0') >= 0) {
            return "entry path contains a NUL byte";
        }
        String[] segments = path.split("/", -1);
        if (segments.length > ManifestCodec.MAX_DEPTH) {
            return "entry path '" + path + "' is deeper than " + ManifestCodec.MAX_DEPTH + " levels";
        }
        for (String s : segments) {
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                return "entry path '" + path + "' has an empty, '.' or '..' segment";
            }
        }
        return null;
    }

    /**
     * Canonical order: segment by segment, so that a directory's entries directly follow it
     * ("a", "a/b", "a-b" rather than "a", "a-b", "a/b").
     */
    public static int compare(String a, String b) {
        String[] x = a.split("/", -1);
        String[] y = b.split("/", -1);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c = x[i].compareTo(y[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }
}
