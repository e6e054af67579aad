package dev.cairn.server.net;

import dev.cairn.protocol.ImageMessages;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.GcMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.protocol.ProtocolException;
import dev.cairn.server.auth.Principal;
import dev.cairn.server.auth.RequestGuard;
import dev.cairn.server.meta.ImageListing;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.net.RequestHandler.Response;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The requests the Raft catalog answers: commit, read, list and delete images, and the upload
 * sessions that keep a put's chunks from GC until its commit.
 */
final class CatalogRequests {

    private final MetaService meta;
    private final NodeMetrics metrics;

    CatalogRequests(MetaService meta, NodeMetrics metrics) {
        this.meta = meta;
        this.metrics = metrics;
    }

    Map<MessageType, Responder> responders() {
        Map<MessageType, Responder> r = new EnumMap<>(MessageType.class);
        r.put(MessageType.COMMIT_IMAGE, this::commitImage);
        r.put(MessageType.GET_IMAGE, this::getImage);
        r.put(MessageType.LIST_IMAGES, Responder.forPrincipal(this::listImages));
        r.put(MessageType.DELETE_IMAGE, this::deleteImage);
        r.put(MessageType.OPEN_SESSION, this::openSession);
        r.put(MessageType.RENEW_SESSION, this::renewSession);
        r.put(MessageType.CLOSE_SESSION, request -> meta.closeSession(GcMessages.decodeSession(request.header()))
                .thenApply(i -> Response.of(request.type(), Messages.encodeLong(i))));
        return r;
    }

    private CompletableFuture<Response> commitImage(Frame request) {
        ImageMessages.CommitImage commit = ImageMessages.CommitImage.decode(request.header());
        // With the caller's call id, a retry after a lost reply gets the first result.
        CompletableFuture<Long> index;
        if (commit.session() != null) {
            if (commit.call() == null) {
                throw new ProtocolException("a commit in an upload session must carry a call id");
            }
            index = meta.commitImage(commit.name(), commit.root(), commit.session(), commit.call().clientId(),
                    commit.call().callId(), commit.closesSession(), commit.parent());
        } else if (commit.parent() != null) {
            throw new ProtocolException("a commit that names a parent must be in an upload session");
        } else {
            index = commit.call() == null ? meta.commitImage(commit.name(), commit.root())
                    : meta.commitImage(commit.name(), commit.root(), commit.call().clientId(), commit.call().callId());
        }
        return index.thenApply(i -> {
            if (commit.newStoredBytes() != ImageMessages.CommitImage.UNKNOWN) {
                metrics.putCommitted(commit.root().logicalBytes(), commit.newStoredBytes());
            }
            return Response.of(request.type(), Messages.encodeLong(i));
        });
    }

    private CompletableFuture<Response> getImage(Frame request) {
        MessageType type = request.type();
        ImageMessages.GetImage get = ImageMessages.GetImage.decode(request.header());
        if (get.minIndex() != ImageMessages.LINEARIZABLE) {
            return meta.getImageAtLeast(get.name(), get.minIndex()).thenApply(read -> sessionAnswer(type, read));
        }
        return meta.getImage(get.name()).thenApply(found -> found
                .map(info -> Response.of(type, ImageMessages.encodeImages(List.of(info))))
                .orElseGet(() -> Response.of(type, ImageMessages.encodeImages(List.of()))));
    }

    /** Lists what {@code principal} may see of the prefix asked: its token's prefixes inside it, merged. */
    private CompletableFuture<Response> listImages(Frame request, Principal principal) {
        MessageType type = request.type();
        ImageMessages.ListImages list = ImageMessages.ListImages.decode(request.header());
        List<String> prefixes = RequestGuard.listPrefixes(principal, list.prefix());
        if (list.minIndex() != ImageMessages.LINEARIZABLE) {
            return ImageListing.listAtLeast(meta, prefixes, list.limit(), list.minIndex())
                    .thenApply(read -> sessionAnswer(type, read));
        }
        return ImageListing.list(meta, prefixes, list.limit())
                .thenApply(images -> Response.of(type, ImageMessages.encodeImages(images)));
    }

    /** A session read's answer carries the index it was served at, for the client's next read. */
    private static Response sessionAnswer(MessageType type, MetaService.SessionRead read) {
        return new Response(type, new ImageMessages.SessionImages(read.images(), read.servedIndex()).encode(), List.of());
    }

    private CompletableFuture<Response> deleteImage(Frame request) {
        ImageMessages.DeleteImage delete = ImageMessages.DeleteImage.decode(request.header());
        CompletableFuture<Long> index = delete.call() == null ? meta.deleteImage(delete.name())
                : meta.deleteImage(delete.name(), delete.call().clientId(), delete.call().callId());
        return index.thenApply(i -> Response.of(request.type(), Messages.encodeLong(i)));
    }

    private CompletableFuture<Response> openSession(Frame request) {
        GcMessages.OpenSession open = GcMessages.OpenSession.decode(request.header());
        return meta.openSession(open.sessionId(), open.clientId(), Duration.ofMillis(open.leaseMillis()))
                .thenApply(i -> Response.of(request.type(), Messages.encodeLong(i)));
    }

    private CompletableFuture<Response> renewSession(Frame request) {
        GcMessages.RenewSession renew = GcMessages.RenewSession.decode(request.header());
        return meta.renewSession(renew.sessionId(), Duration.ofMillis(renew.leaseMillis()))
                .thenApply(i -> Response.of(request.type(), Messages.encodeLong(i)));
    }
}
