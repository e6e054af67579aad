package dev.cairn.server.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.cairn.engine.protocol.ErrorCode;
import dev.cairn.engine.protocol.MessageType;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A node's metrics: one Dropwizard registry, exported in the Prometheus text format by the
 * Prometheus client's Dropwizard bridge. Every name starts with {@code cairn_}.
 */
public final class NodeMetrics {

    private final MetricRegistry registry = new MetricRegistry();
    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final Map<MessageType, Timer> requestTimers = new EnumMap<>(MessageType.class);
    private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
    private final Meter bytesIn;
    private final Meter bytesOut;

    public NodeMetrics() {
        DropwizardExports.builder().dropwizardRegistry(registry).register(prometheus);
        for (MessageType t : MessageType.values()) {
            if (t != MessageType.ERROR) {
                requestTimers.put(t, registry.timer("cairn_request_" + t.name().toLowerCase(Locale.ROOT) + "_seconds"));
            }
        }
        for (ErrorCode c : ErrorCode.values()) {
            errors.put(c, registry.counter("cairn_request_errors_" + c.name().toLowerCase(Locale.ROOT) + "_total"));
        }
        bytesIn = registry.meter("cairn_protocol_received_bytes");
        bytesOut = registry.meter("cairn_protocol_sent_bytes");
    }

    public MetricRegistry registry() {
        return registry;
    }

    /** The latency histogram of one request type. */
    public Timer requestTimer(MessageType type) {
        return requestTimers.get(type);
    }

    public void error(ErrorCode code) {
        errors.get(code).inc();
    }

    public void received(long bytes) {
        bytesIn.mark(bytes);
    }

    public void sent(long bytes) {
        bytesOut.mark(bytes);
    }

    /** Registers a gauge read when metrics are scraped. */
    public void gauge(String name, Supplier<Number> value) {
        registry.gauge(name, () -> (Gauge<Number>) value::get);
    }

    /** Writes every metric in the Prometheus text exposition format. */
    public void writePrometheus(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, prometheus.scrape());
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
