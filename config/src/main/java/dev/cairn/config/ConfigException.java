package dev.cairn.config;

/** A configuration that cannot be used; the message names the field, the value and the fix. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Longest piece of a value a message quotes back: a huge value must not become a huge message. */
    static final int MAX_SHOWN_CHARS = 64;

    /** {@code value} as a message shows it: cut after {@link #MAX_SHOWN_CHARS} characters, saying how long it was. */
    static String shown(String value) {
        if (value == null || value.length() <= MAX_SHOWN_CHARS) {
            return value;
        }
        return value.substring(0, MAX_SHOWN_CHARS) + "… (" + value.length() + " characters)";
    }
}
