package dev.cairn.server.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.protocol.ErrorCode;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.server.metrics.NodeMetrics;
import dev.cairn.server.replication.ClientTraffic;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The request handler's shared part: every request type has one responder, and failures become ERROR answers. */
class RequestHandlerTest {

    @TempDir
    Path dir;

    private RequestHandler handler() {
        NodeAddress self = new NodeAddress("node-1", "127.0.0.1", 1, 2, 3);
        NodeConfig config = new NodeConfig("node-1", dir, Quorum.defaultFor(1), List.of(self), Limits.defaults());
        return new RequestHandler(config, null, null, null, null, null, new NodeMetrics(), new ClientTraffic());
    }

    @Test
    void everyMessageTypeButErrorHasAResponder() {
        assertEquals(EnumSet.complementOf(EnumSet.of(MessageType.ERROR)), EnumSet.copyOf(handler().answeredTypes()));
    }

    @Test
    void aHeaderThatDoesNotDecodeIsABadRequest() {
        // Three bytes cannot hold the id count of a HAS_CHUNKS header.
        Frame request = Frame.request(MessageType.HAS_CHUNKS, 1, ByteBuffer.wrap(new byte[] {0, 0, 7}), null);
        RequestHandler.Response response = handler().handle(request).join();
        assertEquals(MessageType.ERROR, response.type());
        Messages.Error error = Messages.Error.decode(response.header());
        assertEquals(ErrorCode.BAD_REQUEST, error.code());
        assertTrue(error.message().startsWith("bad request: "), error.message());
    }
}
