package dev.cairn.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.PutResult;
import dev.cairn.protocol.transport.WireAllocator;
import dev.cairn.engine.ImageName;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.meta.MetaStatus;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.store.ChunkStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The node's HTTP port, for agents that only speak HTTP. Image bodies stream in both directions
 * with bounded memory; a PUT is chunked, deduplicated and written with quorums exactly as the
 * Java client does it, because this node <em>is</em> a Java client of its cluster for that work.
 *
 * <p>One request per connection (the answer carries {@code Connection: close}): simple, and
 * enough for checkpoint agents, which move a few large bodies rather than many small ones.
 */
public final class HttpApiServer implements AutoCloseable {

    static final String IMAGES = "/v1/images";
    static final String TAR = "application/x-tar";
    static final int MAX_INITIAL_LINE_BYTES = 8192;
    static final int MAX_HEADER_BYTES = 16 * 1024;
    static final int IDLE_SECONDS = 120;
    static final int MAX_CONCURRENT_TRANSFERS = 8;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final MetaService meta;
    private final ChunkStore store;
    private final NodeMetrics metrics;
    private final Supplier<CairnClient> client;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ThreadPoolExecutor workers;
    private Channel serverChannel;

    /**
     * @param client the client this node uses for image transfers (created on first use, after
     *     the node's own protocol port is up)
     */
    public HttpApiServer(MetaService meta, ChunkStore store, NodeMetrics metrics, Supplier<CairnClient> client) {
        this.meta = meta;
        this.store = store;
        this.metrics = metrics;
        this.client = client;
        AtomicInteger n = new AtomicInteger();
        // No queue: a transfer either gets a thread now or the caller is told to come back (503).
        this.workers = new ThreadPoolExecutor(MAX_CONCURRENT_TRANSFERS, MAX_CONCURRENT_TRANSFERS, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "cairn-http-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    public InetSocketAddress start(String host, int port) {
        serverChannel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                // The chunk protocol's pool: Netty's default one fell back to fresh memory for many
                // of a large upload's socket reads (WireAllocator).
                .childOption(ChannelOption.ALLOCATOR, WireAllocator.INSTANCE)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new IdleStateHandler(IDLE_SECONDS, 0, 0));
                        ch.pipeline().addLast(new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES, 64 * 1024));
                        ch.pipeline().addLast(new HttpServerExpectContinueHandler());
                        ch.pipeline().addLast(new Handler());
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** Routes each request; a PUT's body is streamed to a worker through a {@link RequestBodyStream}. */
    private final class Handler extends ChannelInboundHandlerAdapter {
        private RequestBodyStream body;
        private boolean answered;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest request) {
                    onRequest(ctx, request);
                }
                if (msg instanceof HttpContent content) {
                    if (body != null) {
                        body.offer(content.content().retain());
                        if (content instanceof LastHttpContent) {
                            body.end();
                            body = null;
                        }
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
            String path = uri.path();
            HttpMethod method = request.method();
            if (path.equals("/metrics") && method.equals(HttpMethod.GET)) {
                sendMetrics(ctx.channel());
            } else if (path.equals("/v1/admin/health") && method.equals(HttpMethod.GET)) {
                health(ctx.channel());
            } else if (path.equals(IMAGES) && method.equals(HttpMethod.GET)) {
                list(ctx.channel(), uri.parameters().getOrDefault("prefix", List.of("")).get(0));
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
                boolean tar = contentType.startsWith(TAR);
                body = new RequestBodyStream(ch);
                RequestBodyStream stream = body;
                submit(ch, () -> put(ch, name, stream, tar), stream);
            } else if (method.equals(HttpMethod.GET)) {
                boolean tar = accept.startsWith(TAR);
                submit(ch, () -> get(ch, name, tar), null);
            } else if (method.equals(HttpMethod.HEAD)) {
                submit(ch, () -> head(ch, name), null);
            } else if (method.equals(HttpMethod.DELETE)) {
                submit(ch, () -> delete(ch, name), null);
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
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private void submit(Channel ch, Runnable work, RequestBodyStream body) {
        try {
            workers.execute(work);
        } catch (RejectedExecutionException e) {
            if (body != null) {
                body.close();
            }
            sendJson(ch, HttpResponseStatus.SERVICE_UNAVAILABLE, error("this node is busy with "
                    + MAX_CONCURRENT_TRANSFERS + " transfers; retry shortly or use another node"));
        }
    }

    private void put(Channel ch, String name, RequestBodyStream body, boolean tar) {
        try (body) {
            // A tar body becomes a directory image (its entries), a raw body a stream image.
            PutResult r = tar ? client.get().putTar(name, body) : client.get().put(name, body);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("name", r.name());
            out.put("logicalBytes", r.logicalBytes());
            out.put("sentBytes", r.sentBytes());
            out.put("chunks", r.chunks());
            out.put("newChunks", r.newChunks());
            out.put("commitIndex", r.commitIndex());
            sendJson(ch, HttpResponseStatus.CREATED, out);
        } catch (RuntimeException e) {
            sendJson(ch, failed(e), error(e.getMessage()));
        }
    }

    private void get(Channel ch, String name, boolean tar) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, tar ? TAR : HttpHeaderValues.APPLICATION_OCTET_STREAM.toString());
        head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        HttpUtil.setTransferEncodingChunked(head, true);
        ResponseBodyStream out = new ResponseBodyStream(ch, head);
        try {
            if (tar) {
                client.get().getTar(name, out);
            } else {
                client.get().get(name, out);
            }
            out.close();
            ch.close();
        } catch (RuntimeException | IOException e) {
            if (out.started()) {
                ch.close(); // the status line is gone: a cut chunked stream tells the caller it failed
            } else {
                sendJson(ch, e instanceof RuntimeException r ? failed(r) : HttpResponseStatus.INTERNAL_SERVER_ERROR,
                        error(e.getMessage()));
            }
        }
    }

    private void head(Channel ch, String name) {
        try {
            ImageInfo info = client.get().stat(name);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers().set("X-Cairn-Logical-Bytes", info.root().logicalBytes());
            response.headers().set("X-Cairn-Files", info.root().fileCount());
            response.headers().set("X-Cairn-Commit-Index", info.commitIndex());
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ch.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } catch (RuntimeException e) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, statusOf(e));
            ch.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void delete(Channel ch, String name) {
        try {
            long index = client.get().delete(name);
            sendJson(ch, HttpResponseStatus.OK, Map.of("name", name, "commitIndex", index));
        } catch (RuntimeException e) {
            sendJson(ch, failed(e), error(e.getMessage()));
        }
    }

    private void list(Channel ch, String prefix) {
        meta.listImages(prefix, CairnClient.MAX_LIST).whenComplete((images, e) -> {
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
        sendJson(ch, serving ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
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

    /** The status of a failed transfer; a quorum that could not be met is counted in the metrics. */
    private HttpResponseStatus failed(RuntimeException e) {
        if (e instanceof CairnException.QuorumUnavailable) {
            metrics.httpQuorumFailure();
        }
        return statusOf(e);
    }

    static HttpResponseStatus statusOf(RuntimeException e) {
        if (e instanceof CairnException.ImageNotFound) {
            return HttpResponseStatus.NOT_FOUND;
        }
        if (e instanceof CairnException.ImageExists) {
            return HttpResponseStatus.CONFLICT;
        }
        if (e instanceof CairnException.InvalidName || e instanceof CairnException.LocalIo) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        if (e instanceof CairnException.QuorumUnavailable || e instanceof CairnException.ClusterUnreachable) {
            return HttpResponseStatus.SERVICE_UNAVAILABLE;
        }
        if (e instanceof CairnException.NotAStream) {
            return HttpResponseStatus.NOT_ACCEPTABLE;
        }
        return HttpResponseStatus.INTERNAL_SERVER_ERROR;
    }

    private static Map<String, String> error(String message) {
        return Map.of("error", message == null ? "unknown error" : message);
    }

    private static void sendJson(Channel ch, HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            bytes = "{\"error\":\"cannot encode the answer\"}".getBytes(StandardCharsets.UTF_8);
        }
        send(ch, status, "application/json", bytes);
    }

    private static void send(Channel ch, HttpResponseStatus status, String contentType, byte[] body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ch.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownNow();
    }
}
