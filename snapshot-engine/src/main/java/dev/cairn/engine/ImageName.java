package dev.cairn.engine;

import java.util.regex.Pattern;

/**
 * The name of an image: segments of {@code [A-Za-z0-9._-]} separated by {@code /}, such as
 * {@code job-42/rank-0/ckpt-7}. No empty segment, no {@code .} or {@code ..} segment, at most
 * {@value #MAX_LENGTH} characters, so a name is always safe as a key, a URL path and a file path.
 */
public record ImageName(String value) implements Comparable<ImageName> {

    public static final int MAX_LENGTH = 255;

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");

    public ImageName {
        String problem = problem(value);
        if (problem != null) {
            throw new InvalidNameException(problem);
        }
    }

    /** Why {@code value} is not a valid name, or null when it is. */
    public static String problem(String value) {
        if (value == null || value.isEmpty()) {
            return "image name is empty; use segments of letters, digits, '.', '_' or '-' separated by '/'";
        }
        if (value.length() > MAX_LENGTH) {
            return "image name is " + value.length() + " characters long; the limit is " + MAX_LENGTH;
        }
        for (String segment : value.split("/", -1)) {
            if (segment.isEmpty()) {
                return "image name '" + value + "' has an empty segment (leading, trailing or double '/')";
            }
            if (segment.equals(".") || segment.equals("..")) {
                return "image name '" + value + "' has a '" + segment + "' segment, which is not allowed";
            }
            if (!SEGMENT.matcher(segment).matches()) {
                return "image name '" + value + "' has a character outside [A-Za-z0-9._-] in segment '" + segment + "'";
            }
        }
        return null;
    }

    @Override
    public int compareTo(ImageName other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }

    /** A name that breaks the naming rules; the message says which rule. */
    public static final class InvalidNameException extends IllegalArgumentException {
        public InvalidNameException(String message) {
            super(message);
        }
    }
}
