package dev.cairn.client.cli;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One command a caller hands to the agent, read after the handshake: the caller's absolute working
 * directory, its {@code CAIRN_CLUSTER}, {@code CAIRN_TOKEN_FILE} and {@code CAIRN_TLS_CA} (each null
 * when unset or empty), the command's arguments, and the caller's {@code PATH} and {@code CAIRN_*}
 * variables for the processes the command starts (null from a caller of the previous protocol).
 */
record AgentRequest(String workingDir, String clusterEnv, String tokenFileEnv, String tlsCaEnv, List<String> args,
                    Map<String, String> environment) {

    static final int MAX_FIELD_BYTES = 64 * 1024;
    static final int MAX_ARGS = 256;
    /** A shell exports a few dozen CAIRN_* variables at most; more is not a caller of bin/cairn. */
    static final int MAX_ENVIRONMENT = 64;
    private static final Pattern PASSED_VARIABLE = Pattern.compile("(PATH|CAIRN_[A-Za-z0-9_]*)=.*", Pattern.DOTALL);

    AgentRequest {
        args = List.copyOf(args);
        environment = environment == null ? null : Map.copyOf(environment);
    }

    /**
     * Runs the agent's side of the handshake on a new connection ({@code in} from the caller, {@code
     * answer} to it), then reads the request. Nothing of the request is read before the caller has
     * proved it holds the token.
     */
    static AgentRequest read(InputStream in, TaggedLines answer, AgentHandshake handshake) throws IOException, Refused {
        String tag = readField(in);
        if (tag.equals(AgentHandshake.OLD_TAG)) {
            throw new Refused(4, "this bin/cairn speaks the agent's old protocol, which sent the token in clear; the agent "
                    + "refuses it. Use the bin/cairn that came with the agent (update it), or unset CAIRN_AGENT");
        }
        boolean withEnvironment = tag.equals(AgentHandshake.TAG);
        if (!withEnvironment && !tag.equals(AgentHandshake.PREVIOUS_TAG)) {
            throw new Refused(2, "not a cairn agent request; is CAIRN_AGENT the state file that cairn agent printed?");
        }
        String callerNonce = readField(in);
        if (!AgentHandshake.isNonce(callerNonce)) {
            throw new Refused(2, "the request's nonce is not " + AgentHandshake.NONCE_HEX_CHARS + " lowercase hex digits");
        }
        String agentNonce = handshake.newNonce();
        answer.line('c', agentNonce + " " + handshake.agentProof(callerNonce, agentNonce));
        if (!handshake.isCallerProof(readField(in), callerNonce, agentNonce)) {
            throw new Refused(4, "the agent could not verify that you hold its token: the state file in CAIRN_AGENT "
                    + "belongs to an agent that has been restarted since, or to another one; point CAIRN_AGENT at the "
                    + "file cairn agent printed");
        }
        String workingDir = readField(in);
        String clusterEnv = readField(in);
        String tokenFileEnv = readField(in);
        String tlsCaEnv = readField(in);
        String count = readField(in);
        int argc;
        try {
            argc = Integer.parseInt(count);
        } catch (NumberFormatException e) {
            throw new Refused(2, "bad argument count in the request: " + count);
        }
        if (argc < 0 || argc > MAX_ARGS) {
            throw new Refused(2, "a request carries 0 to " + MAX_ARGS + " arguments, not " + argc);
        }
        List<String> args = new ArrayList<>(argc);
        for (int i = 0; i < argc; i++) {
            args.add(readField(in));
        }
        Map<String, String> environment = withEnvironment ? readEnvironment(in) : null;
        return new AgentRequest(workingDir, orNull(clusterEnv), orNull(tokenFileEnv), orNull(tlsCaEnv), args, environment);
    }

    /** The count, then NAME=VALUE fields; only PATH and CAIRN_* are taken, as only they are sent. */
    private static Map<String, String> readEnvironment(InputStream in) throws IOException, Refused {
        String count = readField(in);
        int n;
        try {
            n = Integer.parseInt(count);
        } catch (NumberFormatException e) {
            throw new Refused(2, "bad environment count in the request: " + count);
        }
        if (n < 0 || n > MAX_ENVIRONMENT) {
            throw new Refused(2, "a request carries 0 to " + MAX_ENVIRONMENT + " environment variables, not " + n);
        }
        Map<String, String> environment = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String variable = readField(in);
            if (!PASSED_VARIABLE.matcher(variable).matches()) {
                throw new Refused(2, "the agent takes only PATH and CAIRN_* from the caller's environment, not "
                        + variable.split("=", 2)[0]);
            }
            int eq = variable.indexOf('=');
            environment.put(variable.substring(0, eq), variable.substring(eq + 1));
        }
        return environment;
    }

    private static String orNull(String variable) {
        return variable.isEmpty() ? null : variable;
    }

    private static String readField(InputStream in) throws IOException, Refused {
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        for (int b = in.read(); b != 0; b = in.read()) {
            if (b < 0) {
                throw new EOFException("the request ended early");
            }
            if (field.size() == MAX_FIELD_BYTES) {
                throw new Refused(2, "a request field is longer than " + MAX_FIELD_BYTES + " bytes");
            }
            field.write(b);
        }
        return field.toString(StandardCharsets.UTF_8);
    }

    /** A request the agent will not run: its message goes to the caller's stderr, then the exit code. */
    static final class Refused extends Exception {
        private final int exitCode;

        Refused(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        int exitCode() {
            return exitCode;
        }
    }
}
