package dev.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.server.metrics.NodeMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP port's request handler on an embedded channel: its routes and refusals, the answers of
 * failed transfers, and that it releases what it reads. The routes that need the Raft catalog
 * (health, the image list) and whole transfers run on a real cluster in HttpEndpointsTest.
 */
class HttpRequestHandlerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final NodeMetrics metrics = new NodeMetrics();
    /** The transfer workers, run by the test: a transfer waits until {@link #runWorkers}. */
    private final Queue<Runnable> workers = new ArrayDeque<>();
    private EmbeddedChannel channel;

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel channel(Supplier<CairnClient> client, Executor executor) {
        ImageTransfers transfers = new ImageTransfers(client, metrics, executor, 2);
        channel = new EmbeddedChannel(new HttpRequestHandler(null, null, metrics, transfers,
                new HttpAuth(dev.cairn.server.auth.Authenticator.start(dev.cairn.config.AuthConfig.OFF, null, "test"), true)));
        return channel;
    }

    private EmbeddedChannel channel() {
        return channel(() -> {
            throw new AssertionError("no transfer expected");
        }, workers::add);
    }

    @Test
    void metricsAreServedInThePrometheusFormatAndTheConnectionCloses() {
        metrics.httpQuorumFailure();
        EmbeddedChannel ch = channel();
        ch.writeInbound(request(HttpMethod.GET, "/metrics"));
        FullHttpResponse response = ch.readOutbound();
        try {
            assertEquals(HttpResponseStatus.OK, response.status());
            assertEquals(NodeMetrics.contentType(), response.headers().get(HttpHeaderNames.CONTENT_TYPE));
            assertTrue(response.content().toString(StandardCharsets.UTF_8).contains("cairn_http_quorum_failures_total"));
            assertEquals(HttpHeaderValues.CLOSE.toString(), response.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            response.release();
        }
        assertFalse(ch.isOpen());
    }

    @Test
    void aPathWithNoRouteIsNotFound() throws Exception {
        EmbeddedChannel ch = channel();
        ch.writeInbound(request(HttpMethod.GET, "/v2/nothing"));
        assertEquals("no route for GET /v2/nothing; see the HTTP API in the docs",
                error(ch, HttpResponseStatus.NOT_FOUND));
    }

    @Test
    void aBadImageNameIsRefusedBeforeAnyTransfer() throws Exception {
        EmbeddedChannel ch = channel();
        ch.writeInbound(request(HttpMethod.GET, "/v1/images/a//b"));
        assertTrue(error(ch, HttpResponseStatus.BAD_REQUEST).contains("empty segment"));
        assertTrue(workers.isEmpty());
    }

    @Test
    void aTargetWithABrokenPercentEscapeIsABadRequest() throws Exception {
        // Found by HttpFuzzTest: the decoder's exception closed the connection without an answer.
        for (String target : new String[] {"/v1/images/%zz", "/v1/images?prefix=%"}) {
            EmbeddedChannel ch = channel();
            ch.writeInbound(request(HttpMethod.GET, target));
            assertTrue(error(ch, HttpResponseStatus.BAD_REQUEST).startsWith("bad percent-encoding in the request target"), target);
            ch.finishAndReleaseAll();
        }
        assertTrue(workers.isEmpty());
    }

    @Test
    void aMethodImagesDoNotServeIsNotAllowed() throws Exception {
        EmbeddedChannel ch = channel();
        ch.writeInbound(request(HttpMethod.POST, "/v1/images/job-1"));
        assertEquals("POST is not served on images; use PUT, GET, HEAD or DELETE",
                error(ch, HttpResponseStatus.METHOD_NOT_ALLOWED));
    }

    @Test
    void aRequestTheDecoderCouldNotReadIsABadRequest() throws Exception {
        EmbeddedChannel ch = channel();
        HttpRequest broken = request(HttpMethod.GET, "/metrics");
        broken.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("header too long")));
        ch.writeInbound(broken);
        assertEquals("malformed HTTP request: header too long", error(ch, HttpResponseStatus.BAD_REQUEST));
    }

    @Test
    void aGetOfAnImageNotInTheCatalogIsNotFound() throws Exception {
        EmbeddedChannel ch = channel(() -> {
            throw new CairnException.ImageNotFound("no image job-1");
        }, Runnable::run);
        ch.writeInbound(request(HttpMethod.GET, "/v1/images/job-1"));
        assertEquals("no image job-1", error(ch, HttpResponseStatus.NOT_FOUND));
    }

    @Test
    void aPutWhoseQuorumFailsIsUnavailableCountedAndItsBodyReleased() throws Exception {
        EmbeddedChannel ch = channel(() -> {
            throw new CairnException.QuorumUnavailable("2 of 3 nodes down");
        }, workers::add);
        ch.writeInbound(request(HttpMethod.PUT, "/v1/images/job-1"));
        ByteBuf first = Unpooled.copiedBuffer("first half", StandardCharsets.UTF_8);
        ByteBuf last = Unpooled.copiedBuffer("second half", StandardCharsets.UTF_8);
        ch.writeInbound(new DefaultHttpContent(first));
        ch.writeInbound(new DefaultLastHttpContent(last));
        assertEquals(1, first.refCnt(), "the body waits for the worker");

        runWorkers();
        assertEquals("2 of 3 nodes down", error(ch, HttpResponseStatus.SERVICE_UNAVAILABLE));
        assertEquals(1, metrics.registry().counter("cairn_http_quorum_failures_total").getCount());
        assertEquals(0, first.refCnt());
        assertEquals(0, last.refCnt());
    }

    @Test
    void aTransferBeyondTheWorkersIsTurnedAway() throws Exception {
        EmbeddedChannel ch = channel(() -> {
            throw new AssertionError("no transfer expected");
        }, work -> {
            throw new RejectedExecutionException("all workers busy");
        });
        ch.writeInbound(request(HttpMethod.PUT, "/v1/images/job-1"));
        assertEquals("this node is busy with 2 transfers; retry shortly or use another node",
                error(ch, HttpResponseStatus.SERVICE_UNAVAILABLE));
        assertFalse(ch.isOpen(), "the answer ends the connection, and the body with it");
    }

    private void runWorkers() {
        for (Runnable r = workers.poll(); r != null; r = workers.poll()) {
            r.run();
        }
    }

    private static HttpRequest request(HttpMethod method, String uri) {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
    }

    /** The one answer on {@code ch}: its status must be {@code status}; returns its JSON error message. */
    private static String error(EmbeddedChannel ch, HttpResponseStatus status) throws Exception {
        FullHttpResponse response = ch.readOutbound();
        try {
            assertEquals(status, response.status());
            assertEquals("application/json", response.headers().get(HttpHeaderNames.CONTENT_TYPE));
            JsonNode body = JSON.readTree(response.content().toString(StandardCharsets.UTF_8));
            return body.get("error").asText();
        } finally {
            response.release();
        }
    }
}
