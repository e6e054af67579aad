package dev.cairn.client.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The answer's lines: each stream's text, cut at newlines, goes out as whole lines tagged with
 * the stream's letter, so that stdout and stderr can share the connection.
 */
final class TaggedLines {
    private final OutputStream out;

    TaggedLines(OutputStream out) {
        this.out = out;
    }

    synchronized void line(char tag, String text) throws IOException {
        out.write((tag + " " + text.replace("\n", " ") + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** A stream whose lines go out tagged; {@link Stream#finish} sends a last line without its newline. */
    Stream stream(char tag) {
        return new Stream(tag);
    }

    final class Stream extends OutputStream {
        private final char tag;
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

        private Stream(char tag) {
            this.tag = tag;
        }

        @Override
        public void write(int b) throws IOException {
            if (b == '\n') {
                emit();
            } else {
                pending.write(b);
            }
        }

        void finish() throws IOException {
            if (pending.size() > 0) {
                emit();
            }
        }

        private void emit() throws IOException {
            String text = pending.toString(StandardCharsets.UTF_8);
            pending.reset();
            line(tag, text);
        }
    }
}
