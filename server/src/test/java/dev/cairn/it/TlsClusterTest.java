package dev.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import dev.cairn.config.ClientConfig;
import dev.cairn.config.ConfigFiles;
import dev.cairn.config.Limits;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.config.Quorum;
import dev.cairn.config.TlsConfig;
import dev.cairn.engine.ChunkData;
import dev.cairn.protocol.ChunkMessages;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.transport.TlsCertificates;
import dev.cairn.server.CairnServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-node cluster with TLS on, certificates made by the same generator as {@code cairn dev
 * --tls}: real handshakes on loopback on all three ports, between the nodes and with clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsClusterTest {

    private Path dir;

    private TlsCertificates.Issued ca;
    private TlsCertificates.Issued otherCa;
    private final List<CairnServer> servers = new ArrayList<>();
    private List<NodeAddress> nodes;

    @BeforeAll
    void startCluster(@TempDir Path tmp) throws Exception {
        dir = tmp;
        Instant now = Instant.now();
        ca = TlsCertificates.createAuthority(dir.resolve("tls"), "cairn test CA", now);
        otherCa = TlsCertificates.createAuthority(dir.resolve("other"), "another CA", now);
        nodes = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            nodes.add(new NodeAddress("node-" + i, "127.0.0.1", TestPorts.free(), TestPorts.free(), TestPorts.free()));
        }
        for (NodeAddress a : nodes) {
            TlsCertificates.Issued cert = TlsCertificates.issue(ca, dir.resolve(a.id()), "node", a.id(), List.of(a.host()), now);
            NodeConfig config = new NodeConfig(a.id(), dir.resolve(a.id()), Quorum.defaultFor(3), nodes, Limits.defaults())
                    .withTls(TlsConfig.node(ca.cert(), cert.cert(), cert.key()));
            // Through the file, as a node reads it: the tls section survives a write and a load.
            Path file = dir.resolve(a.id()).resolve("cairn.yaml");
            ConfigFiles.writeNode(config, file);
            assertEquals(config, ConfigFiles.loadNode(file));
            servers.add(CairnServer.start(ConfigFiles.loadNode(file)));
        }
        for (CairnServer s : servers) {
            assertTrue(s.meta().awaitLeader(Duration.ofSeconds(60)), "a Raft leader within 60 s");
        }
    }

    @AfterAll
    void stopCluster() {
        servers.forEach(CairnServer::close);
    }

    private String endpoints() {
        return nodes.stream().map(NodeAddress::endpoint).collect(Collectors.joining(","));
    }

    private CairnClient client(TlsConfig tls) {
        return CairnClient.connect(ClientConfig.parse(endpoints()).withTls(tls));
    }

    @Test
    void aClientThatTrustsTheClusterCaPutsAndGetsOverTls() {
        byte[] data = new byte[700_000];
        new Random(23).nextBytes(data);
        try (CairnClient client = client(TlsConfig.client(ca.cert()))) {
            client.put("tls/round-trip", new ByteArrayInputStream(data));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            client.get("tls/round-trip", out);
            assertArrayEquals(data, out.toByteArray());
        }
    }

    @Test
    void anHttpsPutComesBackOverHttps() throws Exception {
        // The node's gateway stores the chunks on its peers over mutual TLS, with the node's certificate.
        HttpClient https = HttpClient.newBuilder().sslContext(trusting(ca.cert())).build();
        String url = "https://127.0.0.1:" + nodes.get(1).httpPort() + "/v1/images/tls/over-https";
        byte[] data = new byte[300_000];
        new Random(5).nextBytes(data);
        HttpResponse<String> put = https.send(HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());
        HttpResponse<byte[]> get = https.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, get.statusCode());
        assertArrayEquals(data, get.body());
    }

    @Test
    void aClientThatDoesNotTrustTheClusterCaIsRefused() {
        CairnException e = assertThrows(CairnException.class, () -> client(TlsConfig.client(otherCa.cert())).close());
        assertTrue(e.getMessage().contains("TLS handshake failed: its certificate is not signed by the CA this end trusts"),
                e.getMessage());
    }

    @Test
    void aPlainClientGetsNoAnswer() {
        CairnException e = assertThrows(CairnException.class, () -> client(TlsConfig.OFF).close());
        assertTrue(e.getMessage().startsWith("cluster unreachable"), e.getMessage());
        assertTrue(e.getMessage().endsWith("set CAIRN_TLS_CA to the cluster CA's certificate"), e.getMessage());
    }

    @Test
    void plainTcpToTheProtocolPortGetsOnlyATlsFailureAndNothingIsStored() throws Exception {
        ChunkData chunk = ChunkData.raw("plain text never stored".getBytes(StandardCharsets.UTF_8));
        ByteBuffer frame = Frame.request(MessageType.PUT_CHUNKS, 3, ChunkMessages.encodeChunkHeader(List.of(chunk)), chunk.bytes())
                .encode(Limits.DEFAULT_MAX_FRAME_BYTES);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        assertOnlyATlsAlert(sendPlain(nodes.get(0).port(), bytes));
        for (CairnServer s : servers) {
            assertFalse(s.store().contains(chunk.id()), "a chunk sent in plain text was stored on " + s.config().nodeId());
        }
    }

    @Test
    void plainHttpToTheHttpPortGetsOnlyATlsFailureAndDeletesNothing() throws Exception {
        try (CairnClient client = client(TlsConfig.client(ca.cert()))) {
            client.put("tls/keep", new ByteArrayInputStream(new byte[] {1, 2, 3}));
            byte[] delete = ("DELETE /v1/images/tls/keep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            assertOnlyATlsAlert(sendPlain(nodes.get(2).httpPort(), delete));
            assertEquals("tls/keep", client.stat("tls/keep").name().toString(), "the image is still there");
        }
    }

    @Test
    void plainTcpToTheRaftPortGetsOnlyATlsFailure() throws Exception {
        // What a Raft peer speaks first over gRPC: the HTTP/2 preface, here in plain text.
        byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertOnlyATlsAlert(sendPlain(nodes.get(0).raftPort(), preface));
    }

    @Test
    void theRaftPortIsMutualTls() throws Exception {
        // A peer with a node certificate of the cluster CA gets the server's first HTTP/2 frame...
        Path node2 = dir.resolve("node-2").resolve("node");
        assertTrue(raftAnswers(raftContext(ca.cert(), node2.resolveSibling("node.pem"), node2.resolveSibling("node-key.pem"))),
                "a node's certificate is let in");
        // ...one that trusts the CA but shows no certificate gets no further than the handshake.
        IOException e = assertThrows(IOException.class, () -> raftAnswers(raftContext(ca.cert(), null, null)));
        assertTrue(e instanceof javax.net.ssl.SSLException || e instanceof java.io.EOFException
                || e instanceof java.net.SocketException, e.toString());
    }

    /** True when the Raft port answers a TLS connection's HTTP/2 preface; throws when it refuses it. */
    private boolean raftAnswers(SSLContext context) throws IOException {
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket("127.0.0.1", nodes.get(0).raftPort())) {
            s.setSoTimeout(10_000);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(p);
            s.startHandshake();
            s.getOutputStream().write(preface());
            s.getOutputStream().flush();
            if (s.getInputStream().read() < 0) {
                throw new java.io.EOFException("closed");
            }
            return true;
        }
    }

    private static SSLContext raftContext(Path caCert, Path cert, Path key) throws Exception {
        javax.net.ssl.KeyManager[] keys = null;
        if (cert != null) {
            String pem = Files.readString(key).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            java.security.PrivateKey privateKey = java.security.KeyFactory.getInstance("EC")
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getDecoder().decode(pem)));
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            try (InputStream in = Files.newInputStream(cert)) {
                store.setKeyEntry("node", privateKey, new char[0],
                        new java.security.cert.Certificate[] {CertificateFactory.getInstance("X.509").generateCertificate(in)});
            }
            javax.net.ssl.KeyManagerFactory f = javax.net.ssl.KeyManagerFactory.getInstance(
                    javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
            f.init(store, new char[0]);
            keys = f.getKeyManagers();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trustManagers(caCert), null);
        return context;
    }

    private static byte[] preface() {
        return "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    }

    /** Sends {@code bytes} in plain TCP and returns all that comes back before the node closes. */
    private static byte[] sendPlain(int port, byte[] bytes) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                }
            } catch (java.net.SocketException reset) {
                // reset after the alert: closed either way
            }
            return out.toByteArray();
        }
    }

    /** Nothing, or TLS alert records (content type 21) only: never an answer to the request. */
    private static void assertOnlyATlsAlert(byte[] answer) {
        int i = 0;
        while (i < answer.length) {
            assertTrue(answer.length - i >= 5, "a truncated record: " + HexFormat.of().formatHex(answer));
            assertEquals(21, answer[i], "not a TLS alert: " + HexFormat.of().formatHex(answer));
            i += 5 + ((answer[i + 3] & 0xff) << 8 | (answer[i + 4] & 0xff));
        }
    }

    private static SSLContext trusting(Path caCert) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustManagers(caCert), null);
        return context;
    }

    private static javax.net.ssl.TrustManager[] trustManagers(Path caCert) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caCert)) {
            store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        return f.getTrustManagers();
    }
}
