package dev.cairn.server.auth;

import dev.cairn.protocol.Frame;
import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.AuthMessages.Role;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether a principal may send a request: its type's {@link Access} against the role,
 * and the image name (or listing prefix) against the token's prefixes. A listing wider than the
 * token's prefixes is narrowed to those inside it ({@link #listPrefixes}), so {@code ls} never
 * shows another tenant's names.
 */
public final class RequestGuard {

    private RequestGuard() {}

    /**
     * The request to run for {@code principal}: {@code request} itself; refused otherwise. A listing
     * is admitted here and narrowed by its responder, which asks {@link #listPrefixes}.
     */
    public static Frame admit(Principal principal, Frame request) {
        Access access = Access.of(request.type());
        if (access == Access.ANYONE) {
            return request;
        }
        if (access == Access.NODE) {
            // An open connection (auth.required false, no token) keeps every right it had before tokens.
            if (principal.kind() == Principal.Kind.TOKEN) {
                throw AuthException.forbidden(request.type() + " is sent only by the cluster's own nodes; no client token "
                        + "may send it, whatever its role (run cairn admin gc to collect garbage)");
            }
            return request;
        }
        if (!principal.role().allows(access.role)) {
            throw AuthException.forbidden(principal.describe() + " may not " + what(request.type()) + ": that needs role "
                    + access.role.label() + " or higher");
        }
        return switch (request.type()) {
            case COMMIT_IMAGE -> checkName(principal, ImageMessages.CommitImage.decode(dup(request)).name().value(), request);
            case DELETE_IMAGE -> checkName(principal, ImageMessages.DeleteImage.decode(dup(request)).name().value(), request);
            case GET_IMAGE -> checkName(principal, ImageMessages.GetImage.decode(dup(request)).name().value(), request);
            case LIST_IMAGES -> checkList(principal, request);
            default -> request;
        };
    }

    /**
     * Refuses a principal whose role is below {@code role} or whose prefixes do not cover image
     * {@code name} (null: no name): what every image request, on the wire or over HTTP, checks.
     */
    public static void admitImage(Principal principal, Role role, String name) {
        if (!principal.role().allows(role)) {
            throw AuthException.forbidden(principal.describe() + " may not " + (role == Role.READ ? "read" : "write")
                    + " images: that needs role " + role.label() + " or higher");
        }
        if (name != null && !principal.covers(name)) {
            throw AuthException.forbidden(principal.describe() + " may not touch " + name + ": it is limited to names under "
                    + String.join(", ", principal.prefixes()));
        }
    }

    /**
     * The prefixes a listing of {@code prefix} runs over for {@code principal}, in name order:
     * {@code prefix} itself when the principal's prefixes cover it, else every token prefix that
     * lies inside it (one that lies inside another of them is left out: the other lists its names);
     * refused when there is none. The ranges never overlap, so their listings merge without
     * duplicates, and another tenant's names are never in them.
     */
    public static List<String> listPrefixes(Principal principal, String prefix) {
        admitImage(principal, Role.READ, null);
        if (principal.covers(prefix)) {
            return List.of(prefix);
        }
        List<String> within = principal.prefixes().stream().filter(p -> p.startsWith(prefix)).sorted().distinct().toList();
        List<String> ranges = new ArrayList<>();
        for (String p : within) {
            // Sorted: the names under a prefix follow it in one block, so p lies inside a range
            // kept before only if it lies inside the last one kept.
            if (ranges.isEmpty() || !p.startsWith(ranges.get(ranges.size() - 1))) {
                ranges.add(p);
            }
        }
        if (ranges.isEmpty()) {
            throw AuthException.forbidden(principal.describe() + " may list only under " + String.join(", ",
                    principal.prefixes()) + "; list one of those, or list without a prefix");
        }
        return List.copyOf(ranges);
    }

    private static Frame checkName(Principal principal, String name, Frame request) {
        admitImage(principal, Role.READ, name);
        return request;
    }

    private static Frame checkList(Principal principal, Frame request) {
        listPrefixes(principal, ImageMessages.ListImages.decode(dup(request)).prefix());
        return request;
    }

    private static ByteBuffer dup(Frame request) {
        return request.header().duplicate();
    }

    private static String what(MessageType type) {
        return switch (Access.of(type)) {
            case READ -> "read (" + type + ")";
            case WRITE -> "write (" + type + ")";
            default -> "administer the cluster (" + type + ")";
        };
    }
}
