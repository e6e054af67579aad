package dev.cairn.server.net;

import static dev.cairn.server.net.Answers.done;

import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.StoredToken;
import dev.cairn.server.net.RequestHandler.Response;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The operator's token requests: TOKEN_CREATE, TOKEN_LIST and TOKEN_REVOKE (admin role only, see dev.cairn.server.auth). */
final class TokenRequests {

    private final MetaService meta;

    TokenRequests(MetaService meta) {
        this.meta = meta;
    }

    Map<MessageType, Responder> responders() {
        Map<MessageType, Responder> r = new EnumMap<>(MessageType.class);
        r.put(MessageType.TOKEN_CREATE, this::create);
        r.put(MessageType.TOKEN_LIST, request -> done(Response.of(request.type(),
                new AuthMessages.TokenList(meta.tokens().all().stream().map(StoredToken::info).toList()).encode())));
        r.put(MessageType.TOKEN_REVOKE, request -> meta.tokens().revoke(AuthMessages.decodeString(request.header(), "token id"))
                .thenApply(i -> Response.of(request.type(), Messages.encodeLong(i))));
        return r;
    }

    private CompletableFuture<Response> create(Frame request) {
        AuthMessages.CreateToken create = AuthMessages.CreateToken.decode(request.header());
        // Checked here, where a token is made, not when the catalog decodes one: a stored entry must replay.
        create.token().prefixes().forEach(AuthMessages::checkPrefix);
        return meta.tokens().create(new StoredToken(create.token(), create.secretHash()))
                .thenApply(i -> Response.of(request.type(), Messages.encodeLong(i)));
    }
}
