package dev.cairn.server.http;

import static dev.cairn.server.http.HttpResponses.error;
import static dev.cairn.server.http.HttpResponses.sendJson;
import static dev.cairn.server.http.HttpResponses.statusOf;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.client.PutResult;
import dev.cairn.engine.manifest.ImageInfo;
import dev.cairn.server.metrics.NodeMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The image requests of the HTTP port (PUT, GET, HEAD, DELETE of one image), each run on a worker
 * by this node's own Java client, exactly as an agent that speaks the protocol would run it.
 */
final class ImageTransfers {

    static final String TAR = "application/x-tar";

    private final Supplier<CairnClient> client;
    private final NodeMetrics metrics;
    private final Executor workers;
    /** How many transfers the workers run at once, for the "busy" answer. */
    private final int maxConcurrent;

    /** @param workers refuses a transfer (RejectedExecutionException) when {@code maxConcurrent} already run */
    ImageTransfers(Supplier<CairnClient> client, NodeMetrics metrics, Executor workers, int maxConcurrent) {
        this.client = client;
        this.metrics = metrics;
        this.workers = workers;
        this.maxConcurrent = maxConcurrent;
    }

    /** A PUT: the body streams in through {@code body}; a tar body becomes a directory image. */
    void put(Channel ch, String name, RequestBodyStream body, boolean tar) {
        submit(ch, () -> runPut(ch, name, body, tar), body);
    }

    void get(Channel ch, String name, boolean tar) {
        submit(ch, () -> runGet(ch, name, tar), null);
    }

    void head(Channel ch, String name) {
        submit(ch, () -> runHead(ch, name), null);
    }

    void delete(Channel ch, String name) {
        submit(ch, () -> runDelete(ch, name), null);
    }

    private void submit(Channel ch, Runnable work, RequestBodyStream body) {
        try {
            workers.execute(work);
        } catch (RejectedExecutionException e) {
            if (body != null) {
                body.close();
            }
            sendJson(ch, HttpResponseStatus.SERVICE_UNAVAILABLE, error("this node is busy with "
                    + maxConcurrent + " transfers; retry shortly or use another node"));
        }
    }

    private void runPut(Channel ch, String name, RequestBodyStream body, boolean tar) {
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
            IOException cut = body.failure();
            if (cut != null) {
                sendJson(ch, HttpResponseStatus.BAD_REQUEST, error(cut.getMessage())); // the body's fault, not the cluster's
            } else {
                sendJson(ch, failed(e), error(e.getMessage()));
            }
        }
    }

    private void runGet(Channel ch, String name, boolean tar) {
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

    private void runHead(Channel ch, String name) {
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

    private void runDelete(Channel ch, String name) {
        try {
            long index = client.get().delete(name);
            sendJson(ch, HttpResponseStatus.OK, Map.of("name", name, "commitIndex", index));
        } catch (RuntimeException e) {
            sendJson(ch, failed(e), error(e.getMessage()));
        }
    }

    /** The status of a failed transfer; a quorum that could not be met is counted in the metrics. */
    private HttpResponseStatus failed(RuntimeException e) {
        if (e instanceof CairnException.QuorumUnavailable) {
            metrics.httpQuorumFailure();
        }
        return statusOf(e);
    }
}
