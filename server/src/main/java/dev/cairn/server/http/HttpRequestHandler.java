package dev.cairn.server.http;

import static dev.cairn.server.http.HttpResponses.error;
import static dev.cairn.server.http.HttpResponses.send;
import static dev.cairn.server.http.HttpResponses.sendJson;

import dev.cairn.client.CairnClient;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.meta.ImageListing;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.MetaStatus;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkStore;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last handler of one HTTP connection: routes its one request, answers the node's own
 * questions (health, metrics, the image list) at once, and hands image transfers to
 * {@link ImageTransfers}, streaming a PUT's body to the worker through a {@link RequestBodyStream}.
 * Each message is released here, in one place, once read.
 */
final class HttpRequestHandler extends ChannelInboundHandlerAdapter {

    static final String IMAGES = "/v1/images";

    private final MetaService meta;
    private final ChunkStore store;
    private final NodeMetrics metrics;
    private final ImageTransfers transfers;
    private final HttpAuth auth;
    private RequestBodyStream body;
    private boolean answered;

    HttpRequestHandler(MetaService meta, ChunkStore store, NodeMetrics metrics, ImageTransfers transfers, HttpAuth auth) {
        this.auth = auth;
        this.meta = meta;
        this.store = store;
        this.metrics = metrics;
        this.transfers = transfers;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest request) {
                onRequest(ctx, request);
            }
            if (msg instanceof HttpContent content && body != null) {
                if (content.decoderResult().isFailure()) {
                    // The decoder gives up on a bad chunk-size line or a connection that ends early
                    // with a last piece marked failed: the body is cut, so the put must fail, not
                    // commit what came before (its worker answers once it has closed the session).
                    body.fail(new IOException(BodyFaults.describe(content.decoderResult().cause())));
                    body = null;
                    return;
                }
                body.offer(content.content().retain());
                if (content instanceof LastHttpContent) {
                    body.end();
                    body = null;
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
        if (answered) {
            return; // one request per connection
        }
        answered = true;
        if (!request.decoderResult().isSuccess()) {
            sendJson(ctx.channel(), HttpResponseStatus.BAD_REQUEST, error("malformed HTTP request: "
                    + request.decoderResult().cause().getMessage()));
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path;
        Map<String, List<String>> parameters;
        try {
            path = uri.path();
            parameters = uri.parameters();
        } catch (IllegalArgumentException e) { // a % not followed by two hex digits, or not UTF-8
            sendJson(ctx.channel(), HttpResponseStatus.BAD_REQUEST, error("bad percent-encoding in the request target ("
                    + e.getMessage() + "); write each escaped byte as % and two hex digits"));
            return;
        }
        HttpMethod method = request.method();
        List<String> listPrefixes = auth.admit(ctx.channel(), request, path,
                parameters.getOrDefault("prefix", List.of("")).get(0));
        if (listPrefixes == null) {
            return; // refused: 401 or 403 answered
        }
        if (path.equals("/metrics") && method.equals(HttpMethod.GET)) {
            sendMetrics(ctx.channel());
        } else if (path.equals("/v1/admin/health") && method.equals(HttpMethod.GET)) {
            health(ctx.channel());
        } else if (path.equals(IMAGES) && method.equals(HttpMethod.GET)) {
            list(ctx.channel(), listPrefixes);
        } else if (path.startsWith(IMAGES + "/")) {
            image(ctx, request, path.substring(IMAGES.length() + 1));
        } else {
            sendJson(ctx.channel(), HttpResponseStatus.NOT_FOUND, error("no route for " + method + " " + path
                    + "; see the HTTP API in the docs"));
        }
    }

    private void image(ChannelHandlerContext ctx, HttpRequest request, String rawName) {
        Channel ch = ctx.channel();
        String problem = ImageName.problem(rawName);
        if (problem != null) {
            sendJson(ch, HttpResponseStatus.BAD_REQUEST, error(problem));
            return;
        }
        String name = rawName;
        HttpMethod method = request.method();
        String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        String accept = request.headers().get(HttpHeaderNames.ACCEPT, "");
        if (method.equals(HttpMethod.PUT)) {
            body = new RequestBodyStream(ch);
            transfers.put(ch, name, body, contentType.startsWith(ImageTransfers.TAR));
        } else if (method.equals(HttpMethod.GET)) {
            transfers.get(ch, name, accept.startsWith(ImageTransfers.TAR));
        } else if (method.equals(HttpMethod.HEAD)) {
            transfers.head(ch, name);
        } else if (method.equals(HttpMethod.DELETE)) {
            transfers.delete(ch, name);
        } else {
            sendJson(ch, HttpResponseStatus.METHOD_NOT_ALLOWED, error(method + " is not served on images; use PUT, GET, HEAD or DELETE"));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (body != null) {
            body.fail(new IOException("the HTTP client closed the connection before the body ended"));
            body = null;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && !answered) {
            // No request head came in time. Once one has, the transfer's own limits apply
            // (SlowClientGuard): a long GET reads nothing from its client and is not idle.
            ctx.close();
        } else if (evt instanceof ChannelInputShutdownEvent) {
            // The client has sent all it will: a body still open is cut (its worker answers), and
            // a connection that brought no request is done.
            if (body != null) {
                body.fail(new IOException(BodyFaults.ENDED_EARLY));
                body = null;
            } else if (!answered) {
                ctx.close();
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void list(Channel ch, List<String> prefixes) {
        ImageListing.list(meta, prefixes, CairnClient.MAX_LIST).whenComplete((images, e) -> {
            if (e != null) {
                sendJson(ch, HttpResponseStatus.SERVICE_UNAVAILABLE, error(String.valueOf(e.getCause() != null
                        ? e.getCause().getMessage() : e.getMessage())));
                return;
            }
            List<Map<String, Object>> out = new ArrayList<>();
            for (ImageInfo i : images) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", i.name().value());
                m.put("logicalBytes", i.root().logicalBytes());
                m.put("createdMillis", i.root().createdMillis());
                m.put("commitIndex", i.commitIndex());
                out.add(m);
            }
            sendJson(ch, HttpResponseStatus.OK, Map.of("images", out));
        });
    }

    private void health(Channel ch) {
        MetaStatus s = meta.status();
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("node", s.nodeId());
        answer.put("role", s.role());
        answer.put("term", s.term());
        answer.put("leader", s.leaderId());
        answer.put("commitIndex", s.commitIndex());
        answer.put("appliedIndex", s.appliedIndex());
        answer.put("chunks", store.chunkCount());
        answer.put("storedBytes", store.storedBytes());
        boolean serving = s.leaderId() != null;
        answer.put("status", serving ? "healthy" : "unavailable");
        sendJson(ch, serving ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, answer);
    }

    private void sendMetrics(Channel ch) {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        try {
            metrics.writePrometheus(text);
        } catch (IOException e) {
            sendJson(ch, HttpResponseStatus.INTERNAL_SERVER_ERROR, error("cannot export metrics: " + e.getMessage()));
            return;
        }
        send(ch, HttpResponseStatus.OK, NodeMetrics.contentType(), text.toByteArray());
    }
}
