package dev.cairn.server.http;

import static dev.cairn.server.http.HttpResponses.error;

import dev.cairn.protocol.AuthMessages.Role;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.server.auth.AuthException;
import dev.cairn.server.auth.Authenticator;
import dev.cairn.server.auth.Principal;
import dev.cairn.server.auth.RequestGuard;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * Who an HTTP request comes from ({@code Authorization: Bearer ID.SECRET}) and whether it may do
 * what it asks: the same principal and checks as on the protocol port. {@code /metrics} and
 * {@code /v1/admin/health} carry no image names: with {@code http.publicMonitoring} they are
 * readable without a token, so monitoring needs no secret; without it they need a token of any
 * role, so a monitor gets a read token rather than one that could change images.
 */
final class HttpAuth {

    private static final String BEARER = "Bearer ";

    private final Authenticator auth;
    private final boolean publicMonitoring;

    HttpAuth(Authenticator auth, boolean publicMonitoring) {
        this.auth = auth;
        this.publicMonitoring = publicMonitoring;
    }

    /**
     * Admits {@code request} to {@code path}: returns the prefixes an image listing runs over
     * ({@code listPrefix} itself, or the caller's token prefixes inside it: {@link RequestGuard#listPrefixes});
     * answers 401 or 403 and returns null when the request is refused.
     */
    List<String> admit(Channel ch, HttpRequest request, String path, String listPrefix) {
        boolean monitoring = path.equals("/metrics") || path.equals("/v1/admin/health");
        if (monitoring && publicMonitoring) {
            return List.of(listPrefix);
        }
        try {
            // Monitoring that is not public needs no more than this: every role may read it.
            Principal principal = principal(request);
            if (path.equals(HttpRequestHandler.IMAGES)) {
                return RequestGuard.listPrefixes(principal, listPrefix);
            }
            if (path.startsWith(HttpRequestHandler.IMAGES + "/")) {
                HttpMethod m = request.method();
                Role role = m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) ? Role.READ : Role.WRITE;
                RequestGuard.admitImage(principal, role, path.substring(HttpRequestHandler.IMAGES.length() + 1));
            }
            return List.of(listPrefix);
        } catch (AuthException e) {
            boolean unauthenticated = e.code() == ErrorCode.UNAUTHENTICATED;
            HttpResponses.sendJson(ch, unauthenticated ? HttpResponseStatus.UNAUTHORIZED : HttpResponseStatus.FORBIDDEN,
                    error(e.getMessage()));
            return null;
        }
    }

    private Principal principal(HttpRequest request) {
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null) {
            return auth.current(null);
        }
        if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw new AuthException(ErrorCode.UNAUTHENTICATED, "the Authorization header is not 'Bearer ID.SECRET'");
        }
        return auth.current(auth.authenticate(header.substring(BEARER.length()).strip()));
    }
}
