package dev.cairn.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.meta.CatalogException;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.MetaStatus;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The node's HTTP port. For now it answers health and listing; the image transfer routes come
 * with the HTTP API work.
 */
public final class HttpApiServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Requests here are small (no image bodies yet): bound what one may send. */
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final MetaService meta;
    private final ChunkStore store;
    private final NodeMetrics metrics;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private Channel serverChannel;

    public HttpApiServer(MetaService meta, ChunkStore store, NodeMetrics metrics) {
        this.meta = meta;
        this.store = store;
        this.metrics = metrics;
    }

    public InetSocketAddress start(String host, int port) {
        serverChannel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec());
                        ch.pipeline().addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES));
                        ch.pipeline().addLast(new Handler());
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            CompletableFuture<Reply> reply;
            if (request.method() != HttpMethod.GET) {
                reply = done(new Reply(HttpResponseStatus.METHOD_NOT_ALLOWED, error("only GET is served here for now")));
            } else if (uri.path().equals("/metrics")) {
                sendMetrics(ctx);
                return;
            } else if (uri.path().equals("/v1/admin/health")) {
                reply = done(health());
            } else if (uri.path().equals("/v1/images")) {
                String prefix = uri.parameters().getOrDefault("prefix", List.of("")).get(0);
                reply = meta.listImages(prefix, 1000).thenApply(HttpApiServer::images);
            } else {
                reply = done(new Reply(HttpResponseStatus.NOT_FOUND, error("no such route: " + uri.path())));
            }
            reply.exceptionally(HttpApiServer::failure).thenAccept(r -> send(ctx, r));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private record Reply(HttpResponseStatus status, Object body) {}

    private Reply health() {
        MetaStatus s = meta.status();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("node", s.nodeId());
        body.put("role", s.role());
        body.put("term", s.term());
        body.put("leader", s.leaderId());
        body.put("commitIndex", s.commitIndex());
        body.put("appliedIndex", s.appliedIndex());
        body.put("chunks", store.chunkCount());
        body.put("storedBytes", store.storedBytes());
        boolean serving = s.leaderId() != null;
        body.put("status", serving ? "healthy" : "unavailable");
        return new Reply(serving ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
    }

    private static Reply images(List<ImageInfo> images) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ImageInfo i : images) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", i.name().value());
            m.put("logicalBytes", i.root().logicalBytes());
            m.put("createdMillis", i.root().createdMillis());
            m.put("commitIndex", i.commitIndex());
            out.add(m);
        }
        return new Reply(HttpResponseStatus.OK, Map.of("images", out));
    }

    private static Reply failure(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof CatalogException c && c.code() == CatalogException.Code.UNAVAILABLE) {
            return new Reply(HttpResponseStatus.SERVICE_UNAVAILABLE, error(c.getMessage()));
        }
        return new Reply(HttpResponseStatus.INTERNAL_SERVER_ERROR, error(String.valueOf(t.getMessage())));
    }

    private static Map<String, String> error(String message) {
        return Map.of("error", message);
    }

    private static CompletableFuture<Reply> done(Reply r) {
        return CompletableFuture.completedFuture(r);
    }

    private void sendMetrics(ChannelHandlerContext ctx) {
        java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        try {
            metrics.writePrometheus(text);
        } catch (java.io.IOException e) {
            send(ctx, new Reply(HttpResponseStatus.INTERNAL_SERVER_ERROR, error("cannot export metrics: " + e.getMessage())));
            return;
        }
        byte[] body = text.toByteArray();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, NodeMetrics.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private static void send(ChannelHandlerContext ctx, Reply reply) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(reply.body());
        } catch (Exception e) {
            body = ("{\"error\":\"cannot encode the answer\"}").getBytes(StandardCharsets.UTF_8);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status(), Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
