package dev.cairn.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.client.CairnException;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Whole HTTP answers, each closing its connection, and the status a client failure maps to. */
final class HttpResponses {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpResponses() {
    }

    static HttpResponseStatus statusOf(RuntimeException e) {
        if (e instanceof CairnException.ImageNotFound) {
            return HttpResponseStatus.NOT_FOUND;
        }
        if (e instanceof CairnException.ImageExists || e instanceof CairnException.ImageInUse) {
            return HttpResponseStatus.CONFLICT;
        }
        if (e instanceof CairnException.InvalidName || e instanceof CairnException.LocalIo) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        if (e instanceof CairnException.QuorumUnavailable || e instanceof CairnException.ClusterUnreachable) {
            return HttpResponseStatus.SERVICE_UNAVAILABLE;
        }
        if (e instanceof CairnException.QuotaExceeded) {
            return HttpResponseStatus.FORBIDDEN;
        }
        if (e instanceof CairnException.NotAStream) {
            return HttpResponseStatus.NOT_ACCEPTABLE;
        }
        return HttpResponseStatus.INTERNAL_SERVER_ERROR;
    }

    static Map<String, String> error(String message) {
        return Map.of("error", message == null ? "unknown error" : message);
    }

    static void sendJson(Channel ch, HttpResponseStatus status, Object body) {
        ch.writeAndFlush(json(status, body)).addListener(ChannelFutureListener.CLOSE);
    }

    /** A whole JSON answer that closes its connection. */
    static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            bytes = "{\"error\":\"cannot encode the answer\"}".getBytes(StandardCharsets.UTF_8);
        }
        return response(status, "application/json", bytes);
    }

    static void send(Channel ch, HttpResponseStatus status, String contentType, byte[] body) {
        ch.writeAndFlush(response(status, contentType, body)).addListener(ChannelFutureListener.CLOSE);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, byte[] body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return response;
    }
}
