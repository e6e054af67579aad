package dev.cairn.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns what the YAML reader refused into one line in the operator's words: the field, the line,
 * what was expected and what was found; never a Java type name.
 */
final class YamlErrors {

    /** Longest piece of a found value quoted back: a huge string must not become a huge message. */
    private static final int MAX_QUOTED_CHARS = 40;
    private static final Pattern FOUND_TEXT = Pattern.compile("String value \\(\"(.*?)\"\\)", Pattern.DOTALL);
    private static final Pattern FOUND_FRACTION = Pattern.compile("Floating-point value \\(([^)`]*)\\)");
    private static final Pattern FOUND_SHAPE = Pattern.compile(
            "(?:token `JsonToken\\.(\\w+)`|from (Array|Object|Integer|Floating-point|Boolean|String|Null) value)");
    private static final Pattern OUT_OF_RANGE = Pattern.compile("value \\(([^)]*)\\) out of range");

    private YamlErrors() {}

    /** The message (without the file name) for an exception thrown while reading a config file. */
    static String describe(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field '" + ConfigException.shown(u.getPropertyName()) + "'" + where(e) + "; known fields: "
                    + u.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
        }
        if (e instanceof InvalidFormatException f && f.getTargetType() != null) {
            // A coercion refused: the value is known, the parser may stand elsewhere already.
            Object value = f.getValue();
            return "bad value for '" + path(f) + "'" + where(e) + ": expected " + expected(f.getTargetType()) + ", got "
                    + (value instanceof String text ? "the text " + quote(text)
                    : value instanceof Double || value instanceof Float || value instanceof java.math.BigDecimal
                    ? value + ", which is not a whole number" : quote(String.valueOf(value)));
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return "bad value for '" + path(m) + "'" + where(e) + ": expected " + expected(m.getTargetType())
                    + ", got " + found(String.valueOf(m.getOriginalMessage()));
        }
        String original = String.valueOf(e.getOriginalMessage());
        Matcher range = OUT_OF_RANGE.matcher(original);
        if (find(e, InputCoercionException.class) != null && range.find()) {
            String field = e instanceof JsonMappingException m && !m.getPath().isEmpty() ? path(m) : path(e.getProcessor());
            return "bad value for '" + field + "'" + where(e) + ": " + quote(range.group(1))
                    + " is too large or too small for this field";
        }
        if (original.startsWith("Duplicate field")) {
            String field = e.getProcessor() instanceof JsonParser p ? path(p) : "?";
            return "field '" + field + "' appears twice" + where(e) + "; keep one of them";
        }
        if (e instanceof JsonMappingException m) {
            return "bad value for '" + path(m) + "'" + where(e) + ": " + firstLine(original);
        }
        return "not valid YAML" + where(e) + ": " + firstLine(original);
    }

    private static String expected(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number without quotes";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "text";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "a mapping of fields";
    }

    /**
     * What the file held, read back from the reader's own message: by the time the exception
     * arrives the parser is closed and no longer knows its token.
     */
    private static String found(String message) {
        Matcher m = FOUND_TEXT.matcher(message);
        if (m.find()) {
            return "the text " + quote(m.group(1)) + (m.group(1).matches("-?[0-9][0-9_.eE+-]*") ? " (a number in quotes)" : "");
        }
        m = FOUND_FRACTION.matcher(message);
        if (m.find()) {
            return m.group(1) + ", which is not a whole number";
        }
        m = FOUND_SHAPE.matcher(message);
        if (m.find()) {
            return switch (m.group(1) != null ? m.group(1) : m.group(2)) {
                case "Array", "START_ARRAY" -> "a list";
                case "Object", "START_OBJECT" -> "a mapping";
                case "Integer", "VALUE_NUMBER_INT" -> "a whole number";
                case "Floating-point", "VALUE_NUMBER_FLOAT" -> "a number with a fraction";
                case "Boolean", "VALUE_TRUE", "VALUE_FALSE" -> "true or false";
                case "String", "VALUE_STRING" -> "text";
                default -> "nothing (null)";
            };
        }
        return "a value of another kind";
    }

    private static String quote(String text) {
        String t = text == null ? "" : text;
        return "\"" + (t.length() > MAX_QUOTED_CHARS ? t.substring(0, MAX_QUOTED_CHARS) + "…" : t) + "\"";
    }

    private static String firstLine(String message) {
        int nl = message.indexOf('\n');
        String line = nl < 0 ? message : message.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }

    /** The field the exception is about, from the root: {@code nodes[1].port}; "the file" for the root itself. */
    static String path(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
        return path.isEmpty() ? "the file" : ConfigException.shown(path);
    }

    /** The field the parser stands on, from the root: {@code nodes[1].port}. */
    private static String path(Object processor) {
        if (!(processor instanceof JsonParser p)) {
            return "?";
        }
        Deque<String> parts = new ArrayDeque<>();
        for (JsonStreamContext c = p.getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                parts.addFirst("." + c.getCurrentName());
            } else if (c.inArray()) {
                parts.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
            }
        }
        String joined = String.join("", parts);
        return joined.startsWith(".") ? joined.substring(1) : joined;
    }

    private static String where(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
