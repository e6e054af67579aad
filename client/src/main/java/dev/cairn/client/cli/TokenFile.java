package dev.cairn.client.cli;

import dev.cairn.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The access token a command presents: the first line of --token-file or of the file $CAIRN_TOKEN_FILE names, or none. */
final class TokenFile {

    /** A token is one short line; a file much larger than that is not a token file. */
    private static final long MAX_BYTES = 4096;

    private TokenFile() {}

    /**
     * The token of the file a caller's $CAIRN_TOKEN_FILE names ({@code file}; relative to its
     * working directory {@code dir}), or null when the variable is unset or empty.
     */
    static String fromVariable(String file, Path dir) {
        return file == null || file.isBlank() ? null : read(dir.resolve(file));
    }

    static String read(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ConfigException("token file " + file + " is larger than " + MAX_BYTES
                        + " bytes; it should hold the one line cairn admin token create printed");
            }
            String token = Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
            if (token.isEmpty()) {
                throw new ConfigException("token file " + file + " is empty; put the line cairn admin token create printed in it");
            }
            return token;
        } catch (NoSuchFileException e) {
            throw new ConfigException("token file " + file + " does not exist; fix CAIRN_TOKEN_FILE or --token-file");
        } catch (IOException e) {
            throw new ConfigException("cannot read token file " + file + ": " + e.getMessage());
        }
    }
}
