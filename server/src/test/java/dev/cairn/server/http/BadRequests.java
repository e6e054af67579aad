package dev.cairn.server.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Generates HTTP requests that are wrong by construction, each from its own seeded Random: bad
 * request lines, methods, paths and names, headers, content lengths, chunked encodings, bodies
 * that stop short, and tar bodies with garbage. None of them may store anything.
 */
final class BadRequests {

    /** One generated request; {@code endOutput}: the client half-closes after sending it. */
    record Bad(String kind, byte[] bytes, boolean endOutput) {

        /** The request as text for a failure message: control bytes escaped, long ones cut. */
        String shown() {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < Math.min(bytes.length, 400); i++) {
                int b = bytes[i] & 0xff;
                if (b >= 0x20 && b < 0x7f) {
                    s.append((char) b);
                } else {
                    s.append(b == '\r' ? "\\r" : b == '\n' ? "\\n" : String.format("\\x%02x", b));
                }
            }
            return kind + (endOutput ? " (then half-closed)" : "") + ": " + s + (bytes.length > 400 ? "... (" + bytes.length + " bytes)" : "");
        }
    }

    private static final String CRLF = "\r\n";
    private static final List<String> BAD_NAMES = List.of("..", ".", "a//b", "a/../b", "a/./b", "/abs", "a/", "bad%20name",
            "nul%00byte", "%2e%2e/x", "tab%09x", "%zz", "%", "%e2%82", "\u00e9t\u00e9", "a\\b", "x".repeat(256),
            "ok/" + "y".repeat(300), "semi;colon", "star*", "quote%22", "%2F%2Fslashes");

    private BadRequests() {
    }

    static Bad generate(Random r) {
        int pick = r.nextInt(100);
        // Kinds whose body reaches a put (chunked, truncated, tar) cost a session's Raft round trips
        // each, so they are fewer; every kind still comes hundreds of times in a run.
        if (pick < 16) {
            return requestLine(r);
        } else if (pick < 28) {
            return method(r);
        } else if (pick < 46) {
            return path(r);
        } else if (pick < 62) {
            return header(r);
        } else if (pick < 78) {
            return contentLength(r);
        } else if (pick < 88) {
            return chunked(r);
        } else if (pick < 94) {
            return truncated(r);
        }
        return tar(r);
    }

    private static String name(Random r) {
        return "fuzz/n" + r.nextInt(1_000_000);
    }

    private static Bad requestLine(Random r) {
        String target = r.nextBoolean() ? "/metrics" : "/v1/images/" + name(r);
        String line = switch (r.nextInt(9)) {
            case 0 -> "GET";
            case 1 -> "GET " + target;
            case 2 -> "GET " + target + " HTTP/" + r.nextInt(10);
            case 3 -> "GET " + target + " HTTP/x." + r.nextInt(10);
            case 4 -> "GET " + target + " " + randomToken(r, 1 + r.nextInt(12));
            case 5 -> "GET  HTTP/1.1";
            case 6 -> "GET " + target + " HTTP/1.1 extra";
            case 7 -> "GET /" + "a".repeat(8200 + r.nextInt(4000)) + " HTTP/1.1";
            default -> new String(randomBytes(r, 1 + r.nextInt(200)), StandardCharsets.ISO_8859_1).replace("\n", "");
        };
        return new Bad("request line", ascii(line + CRLF + "Host: node" + CRLF + CRLF), false);
    }

    private static Bad method(Random r) {
        List<String> methods = List.of("get", "Put", "POST", "PATCH", "OPTIONS", "TRACE", "CONNECT", "BREW", "PUTT",
                "DELETEX", randomToken(r, 1 + r.nextInt(20)));
        String m = methods.get(r.nextInt(methods.size()));
        if (List.of("GET", "PUT", "DELETE", "HEAD").contains(m)) {
            m = "BREW"; // a random token that happens to be a served method is not a bad request
        }
        String target = r.nextBoolean() ? "/v1/images/" + name(r) : r.nextBoolean() ? "/v1/images" : "/metrics";
        if (target.equals("/metrics") && m.equals("GET")) {
            m = "POST";
        }
        return new Bad("method", ascii(m + " " + target + " HTTP/1.1" + CRLF + "Host: node" + CRLF + "Content-Length: 3"
                + CRLF + CRLF + "abc"), false);
    }

    private static Bad path(Random r) {
        String bad = BAD_NAMES.get(r.nextInt(BAD_NAMES.size()));
        String target = switch (r.nextInt(5)) {
            case 0 -> "/v1/images?prefix=" + (r.nextBoolean() ? "%zz" : "%");
            case 1 -> r.nextBoolean() ? "/v1/imagesX/a" : "/v2/images/" + name(r);
            case 2 -> r.nextBoolean() ? "*" : "/" + randomToken(r, 1 + r.nextInt(30));
            default -> "/v1/images/" + bad;
        };
        String method = List.of("GET", "PUT", "DELETE").get(r.nextInt(3));
        String body = method.equals("PUT") ? "body" : "";
        String head = method + " " + target + " HTTP/1.1" + CRLF + "Host: node" + CRLF
                + (body.isEmpty() ? "" : "Content-Length: " + body.length() + CRLF) + CRLF;
        return new Bad("path", ascii(head + body), false);
    }

    private static Bad header(Random r) {
        String bad = switch (r.nextInt(6)) {
            case 0 -> "NoColonHere";
            case 1 -> "Bad Name: x";
            case 2 -> "Nul\0Name: x";
            case 3 -> ": empty-name";
            case 4 -> "X-Big: " + "h".repeat(16_500 + r.nextInt(4000));
            default -> "Spaced : value";
        };
        List<String> lines = new java.util.ArrayList<>(List.of("Host: node", "Content-Length: 5", bad));
        java.util.Collections.shuffle(lines, r);
        return new Bad("header", ascii("PUT /v1/images/" + name(r) + " HTTP/1.1" + CRLF + String.join(CRLF, lines) + CRLF + CRLF
                + "hello"), false);
    }

    private static Bad contentLength(Random r) {
        String value = switch (r.nextInt(7)) {
            case 0 -> "abc";
            case 1 -> "-" + (1 + r.nextInt(100));
            case 2 -> "5, 7";
            case 3 -> "99999999999999999999999";
            case 4 -> "0x10";
            case 5 -> "5.5";
            default -> "";
        };
        String lengths = r.nextInt(4) == 0 ? "Content-Length: 5" + CRLF + "Content-Length: 6" : "Content-Length: " + value;
        return new Bad("content length", ascii("PUT /v1/images/" + name(r) + " HTTP/1.1" + CRLF + "Host: node" + CRLF
                + lengths + CRLF + CRLF + "hello!"), false);
    }

    private static Bad chunked(Random r) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        write(b, "PUT /v1/images/" + name(r) + " HTTP/1.1" + CRLF + "Host: node" + CRLF
                + (r.nextInt(5) == 0 ? "Content-Length: 12" + CRLF : "") + "Transfer-Encoding: chunked" + CRLF + CRLF);
        int good = r.nextInt(3);
        for (int i = 0; i < good; i++) {
            byte[] data = randomBytes(r, 1 + r.nextInt(3000));
            write(b, Integer.toHexString(data.length) + CRLF);
            b.writeBytes(data);
            write(b, CRLF);
        }
        String sizeLine = switch (r.nextInt(6)) {
            case 0 -> "zz-not-hex";
            case 1 -> "-5";
            case 2 -> "fffffffffffffffffffff";
            case 3 -> "";
            case 4 -> " ";
            default -> alphanumeric(r, 1 + r.nextInt(10)) + "g";
        };
        write(b, sizeLine + CRLF);
        b.writeBytes(randomBytes(r, r.nextInt(2000)));
        write(b, CRLF + "0" + CRLF + CRLF);
        return new Bad("chunked", b.toByteArray(), false);
    }

    /** A body that stops before its length or its last chunk, then the client ends its side. */
    private static Bad truncated(Random r) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        String type = r.nextBoolean() ? "Content-Type: application/x-tar" + CRLF : "";
        if (r.nextBoolean()) {
            int length = 100 + r.nextInt(20_000);
            write(b, "PUT /v1/images/" + name(r) + " HTTP/1.1" + CRLF + "Host: node" + CRLF + type + "Content-Length: "
                    + length + CRLF + CRLF);
            b.writeBytes(randomBytes(r, r.nextInt(length)));
        } else {
            write(b, "PUT /v1/images/" + name(r) + " HTTP/1.1" + CRLF + "Host: node" + CRLF + type
                    + "Transfer-Encoding: chunked" + CRLF + CRLF);
            byte[] data = randomBytes(r, 1 + r.nextInt(5000));
            write(b, Integer.toHexString(data.length) + CRLF);
            b.writeBytes(data);
            if (r.nextBoolean()) {
                write(b, CRLF);
            }
        }
        return new Bad("truncated body", b.toByteArray(), true);
    }

    private static Bad tar(Random r) {
        byte[] body = switch (r.nextInt(5)) {
            case 0 -> randomBytes(r, 512 * (1 + r.nextInt(8)));
            case 1 -> corruptChecksum(tarEntry("file-" + r.nextInt(100), randomBytes(r, r.nextInt(2000))), r);
            case 2 -> tarEntry(r.nextBoolean() ? "../../escape" : "/etc/absolute", randomBytes(r, 100));
            case 3 -> sizeField(tarEntry("sized", randomBytes(r, 10)), "zzzzzzzzzzz");
            default -> concat(tarEntry("first", randomBytes(r, 600)), randomBytes(r, 512 + r.nextInt(2000)));
        };
        String head = "PUT /v1/images/" + name(r) + " HTTP/1.1" + CRLF + "Host: node" + CRLF
                + "Content-Type: application/x-tar" + CRLF + "Content-Length: " + body.length + CRLF + CRLF;
        return new Bad("tar", concat(ascii(head), body), false);
    }

    /** One ustar entry (header and padded data), with no end-of-archive blocks after it. */
    static byte[] tarEntry(String name, byte[] data) {
        byte[] header = new byte[512];
        put(header, 0, name);
        put(header, 100, "0000644");
        put(header, 108, "0000000");
        put(header, 116, "0000000");
        put(header, 124, String.format("%011o", data.length));
        put(header, 136, "00000000000");
        header[156] = '0';
        put(header, 257, "ustar");
        put(header, 263, "00");
        java.util.Arrays.fill(header, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte x : header) {
            sum += x & 0xff;
        }
        put(header, 148, String.format("%06o", sum));
        header[154] = 0;
        byte[] padded = new byte[(data.length + 511) / 512 * 512];
        System.arraycopy(data, 0, padded, 0, data.length);
        return concat(header, padded);
    }

    private static byte[] corruptChecksum(byte[] entry, Random r) {
        entry[148 + r.nextInt(6)] ^= 0x01;
        return entry;
    }

    private static byte[] sizeField(byte[] entry, String size) {
        put(entry, 124, size);
        return entry;
    }

    private static void put(byte[] to, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, to, at, b.length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String randomToken(Random r, int length) {
        String chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~@()<>,;:\\\"/[]?={}";
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append(chars.charAt(r.nextInt(chars.length())));
        }
        return s.toString();
    }

    private static String alphanumeric(Random r, int length) {
        String chars = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append(chars.charAt(r.nextInt(chars.length())));
        }
        return s.toString();
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void write(ByteArrayOutputStream b, String s) {
        b.writeBytes(ascii(s));
    }
}
