package dev.cairn.server.net;

import static dev.cairn.server.net.Answers.done;

import dev.cairn.protocol.AuthMessages;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.QuotaMessages;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.net.RequestHandler.Response;
import java.util.EnumMap;
import java.util.Map;

/** The operator's quota requests: QUOTA_SET, QUOTA_LIST and QUOTA_REMOVE (admin role only, see dev.cairn.server.auth). */
final class QuotaRequests {

    private final MetaService meta;

    QuotaRequests(MetaService meta) {
        this.meta = meta;
    }

    Map<MessageType, Responder> responders() {
        Map<MessageType, Responder> r = new EnumMap<>(MessageType.class);
        r.put(MessageType.QUOTA_SET, request -> {
            QuotaMessages.SetQuota set = QuotaMessages.SetQuota.decode(request.header());
            return meta.quotas().set(set.prefix(), set.maxBytes()).thenApply(i -> indexAnswer(request, i));
        });
        r.put(MessageType.QUOTA_LIST, request -> done(Response.of(request.type(), new QuotaMessages.QuotaList(
                meta.quotas().all().stream().map(q -> new QuotaMessages.QuotaInfo(q.prefix(), q.usedBytes(), q.maxBytes()))
                        .toList()).encode())));
        r.put(MessageType.QUOTA_REMOVE, request -> meta.quotas().remove(AuthMessages.decodeString(request.header(), "quota prefix"))
                .thenApply(i -> indexAnswer(request, i)));
        return r;
    }

    private static Response indexAnswer(Frame request, long index) {
        return Response.of(request.type(), Messages.encodeLong(index));
    }
}
