package dev.cairn.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A byte count as people write it on a command line: {@code 500}, {@code 64k}, {@code 500G}, {@code 2TiB} (powers of 1024). */
public final class ByteSize {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(?:([KMGT])(?:I?B)?)?", Pattern.CASE_INSENSITIVE);

    private ByteSize() {}

    /**
     * The bytes {@code text} says.
     *
     * @param flag the option or field the text came from, named in the error
     * @throws ConfigException saying what to write, when {@code text} is not a size or says more than a long holds
     */
    public static long parse(String flag, String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new ConfigException(flag + " '" + text + "' is not a size: write bytes (1000000) or a number with"
                    + " K, M, G or T (500G)");
        }
        int shift = m.group(2) == null ? 0 : 10 * ("KMGT".indexOf(Character.toUpperCase(m.group(2).charAt(0))) + 1);
        try {
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new ConfigException(flag + " '" + text + "' is larger than the " + Long.MAX_VALUE + " bytes a long can say");
        }
    }
}
