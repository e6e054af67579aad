package dev.cairn.server.auth;

import dev.cairn.protocol.Frame;
import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.AuthMessages.Role;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Decides whether a principal may send a request: its type's {@link Access} against the role,
 * and the image name (or listing prefix) against the token's prefixes. A listing wider than the
 * token's one prefix is narrowed to it, so {@code ls} never shows another tenant's names.
 */
public final class RequestGuard {

    private RequestGuard() {}

    /** The request to run for {@code principal}: {@code request} itself or a narrowed listing; refused otherwise. */
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
            case LIST_IMAGES -> narrowList(principal, request);
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
     * The prefix a listing of {@code prefix} runs with for {@code principal}: the same when its
     * prefixes cover it, else the one token prefix inside it; refused when there is none or several
     * (a listing could not be narrowed to one range, and must never show another tenant's names).
     */
    public static String listPrefix(Principal principal, String prefix) {
        admitImage(principal, Role.READ, null);
        if (principal.covers(prefix)) {
            return prefix;
        }
        List<String> within = principal.prefixes().stream().filter(p -> p.startsWith(prefix)).toList();
        if (within.size() != 1) {
            throw AuthException.forbidden(principal.describe() + " may list only under " + String.join(", ",
                    principal.prefixes()) + "; list one of those");
        }
        return within.get(0);
    }

    private static Frame checkName(Principal principal, String name, Frame request) {
        admitImage(principal, Role.READ, name);
        return request;
    }

    private static Frame narrowList(Principal principal, Frame request) {
        ImageMessages.ListImages list = ImageMessages.ListImages.decode(dup(request));
        String prefix = listPrefix(principal, list.prefix());
        if (prefix.equals(list.prefix())) {
            return request;
        }
        ByteBuffer narrowed = new ImageMessages.ListImages(prefix, list.limit(), list.minIndex()).encode();
        return Frame.request(request.type(), request.requestId(), narrowed, request.payload());
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
