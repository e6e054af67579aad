package dev.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.config.HttpLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sends {@value #DEFAULT_COUNT} generated bad HTTP requests ({@link BadRequests}) to a real node,
 * from a few connections at once, and checks that each gets an error status with a JSON error
 * within a bounded time, that nothing is committed, and that the node still serves a good request
 * afterwards. Seeded: the seed is in every failure message, {@code -Dcairn.fuzz.seed=N} replays a
 * run, and request {@code i} of a run is generated from {@code seed + i} alone.
 */
class HttpFuzzTest {

    static final int DEFAULT_COUNT = 10_000;
    /** The longest one bad request may take to be answered: a hang is anything longer. */
    static final int ANSWER_WAIT_MILLIS = 15_000;
    static final int CONNECTIONS = 8;

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void badRequestsGetErrorsAndStoreNothing() throws Exception {
        long seed = Long.getLong("cairn.fuzz.seed", new Random().nextLong());
        int count = Integer.getInteger("cairn.fuzz.count", DEFAULT_COUNT);
        String replay = " (seed " + seed + "; replay with -Dcairn.fuzz.seed=" + seed + ")";
        // Small slow-client limits, so a request the node waits on is cut in about a second.
        HttpLimits limits = new HttpLimits(Duration.ofSeconds(10), 1024, Duration.ofMillis(500), Duration.ofSeconds(2),
                Duration.ofSeconds(5), 8);
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicLong slowestNanos = new AtomicLong();
        Map<String, LongAdder> millisByKind = new ConcurrentHashMap<>();
        Map<String, LongAdder> answers = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        try (HttpNode node = HttpNode.start(dir, limits)) {
            ExecutorService senders = Executors.newFixedThreadPool(CONNECTIONS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < CONNECTIONS; c++) {
                    int first = c;
                    done.add(senders.submit(() -> {
                        for (int i = first; i < count && failures.size() < 20; i += CONNECTIONS) {
                            BadRequests.Bad bad = BadRequests.generate(new Random(seed + i));
                            long t = System.nanoTime();
                            String problem = check(node.httpPort(), bad, answers);
                            slowestNanos.accumulateAndGet(System.nanoTime() - t, Math::max);
                            millisByKind.computeIfAbsent(bad.kind(), k -> new LongAdder()).add((System.nanoTime() - t) / 1_000_000);
                            if (problem != null) {
                                failures.add("request " + i + " " + bad.shown() + "\n    -> " + problem);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                senders.shutdownNow();
            }
            System.out.printf("HTTP fuzz: %d bad requests in %.1f s, slowest answer %d ms%s;%n  milliseconds by kind: %s;%n"
                            + "  answers by kind and status: %s%n", count, (System.nanoTime() - start) / 1e9,
                    slowestNanos.get() / 1_000_000, replay, new TreeMap<>(millisByKind), new TreeMap<>(answers));
            assertTrue(failures.isEmpty(), failures.size() + " bad requests were mishandled" + replay + ":\n"
                    + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
            assertEquals(List.of(), node.images(), "bad requests committed images" + replay);

            try (RawHttp good = new RawHttp(node.httpPort(), ANSWER_WAIT_MILLIS)) {
                RawHttp.Answer put = good.send("PUT /v1/images/fuzz/good HTTP/1.1\r\nHost: node\r\nContent-Length: 5\r\n\r\nhello").read();
                assertEquals(201, put.status(), "the node no longer serves a good request" + replay + ": " + put);
            }
            assertEquals(List.of("fuzz/good"), node.images(), replay);
        }
    }

    /** Sends {@code bad} on its own connection; returns what was wrong with the node's answer, or null. */
    private static String check(int port, BadRequests.Bad bad, Map<String, LongAdder> answers) {
        try (RawHttp http = new RawHttp(port, ANSWER_WAIT_MILLIS)) {
            try {
                http.send(bad.bytes());
                if (bad.endOutput()) {
                    http.endOutput();
                }
            } catch (IOException e) {
                // The node may answer and close before it has read all of a request it refused.
            }
            RawHttp.Answer answer = http.read();
            answers.computeIfAbsent(bad.kind() + " " + answer.status(), k -> new LongAdder()).increment();
            if (answer.status() < 400 || answer.status() > 599) {
                return "no error status: " + answer;
            }
            String type = answer.headers().getOrDefault("content-type", "");
            if (!type.equals("application/json")) {
                return "not JSON: " + answer;
            }
            JsonNode body = JSON.readTree(answer.body());
            if (body == null || !body.path("error").isTextual() || body.path("error").asText().isBlank()) {
                return "no error message: " + answer;
            }
            return null;
        } catch (java.net.SocketTimeoutException e) {
            return "no answer within " + ANSWER_WAIT_MILLIS + " ms (a hang)";
        } catch (IOException e) {
            return "the connection failed without an answer: " + e;
        }
    }
}
