package dev.cairn.protocol.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.config.TlsConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real TLS handshakes on loopback with certificates made by {@link TlsCertificates}: what a node's
 * port accepts, what it refuses, and the {@link PeerIdentity} it records.
 */
class TlsHandshakeTest {

    @TempDir
    Path dir;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    /** What the server's request handler saw: "IDENTITY|message" per message read. */
    private final BlockingQueue<String> seen = new LinkedBlockingQueue<>();
    private TlsCertificates.Issued ca;
    private TlsCertificates.Issued node1;
    private TlsCertificates.Issued node2;
    private TlsCertificates.Issued otherCa;
    private TlsCertificates.Issued rogue;
    private Channel server;
    private int port;

    @BeforeEach
    void setUp() throws Exception {
        Instant now = Instant.now();
        ca = TlsCertificates.createAuthority(dir.resolve("ca"), "cairn test CA", now);
        node1 = TlsCertificates.issue(ca, dir.resolve("node-1"), "node", "node-1", List.of("127.0.0.1"), now);
        node2 = TlsCertificates.issue(ca, dir.resolve("node-2"), "node", "node-2", List.of("127.0.0.1"), now);
        otherCa = TlsCertificates.createAuthority(dir.resolve("other-ca"), "someone else's CA", now);
        rogue = TlsCertificates.issue(otherCa, dir.resolve("rogue"), "node", "node-9", List.of("127.0.0.1"), now);
        ServerTls tls = ServerTls.of(TlsConfig.node(ca.cert(), node1.cert(), node1.key()));
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        tls.addTo(ch.pipeline());
                        ch.pipeline().addLast(new Recorder());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterEach
    void tearDown() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The build ships BoringSSL for x86-64 Linux; if its native library stopped loading, TLS would quietly cost more. */
    @Test
    void onX86LinuxTheNodesEncryptWithBoringSsl() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").equals("Linux")
                && System.getProperty("os.arch").equals("amd64"), "BoringSSL is shipped for x86-64 Linux only");
        assertTrue(io.netty.handler.ssl.OpenSsl.isAvailable(), () -> "BoringSSL did not load: "
                + io.netty.handler.ssl.OpenSsl.unavailabilityCause());
        assertEquals("BoringSSL (netty-tcnative)", TlsProtocols.implementation());
    }

    /**
     * That BoringSSL loads is not enough: the node's ports (the protocol port and the HTTP port both
     * take their TLS from {@link ServerTls}) must encrypt with it, as the start log says. A context
     * that fell back to the JDK's TLS would make HTTPS gets cost more without anything failing.
     */
    @Test
    void aNodesPortsEncryptWithBoringSslAndSayWhichTlsTheyUse() {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.handler.ssl.OpenSsl.isAvailable(),
                "BoringSSL is shipped for x86-64 Linux only");
        ServerTls tls = ServerTls.of(TlsConfig.node(ca.cert(), node1.cert(), node1.key()));
        io.netty.channel.embedded.EmbeddedChannel port = new io.netty.channel.embedded.EmbeddedChannel();
        try {
            tls.addTo(port.pipeline());
            javax.net.ssl.SSLEngine engine = port.pipeline().get(io.netty.handler.ssl.SslHandler.class).engine();
            assertTrue(engine instanceof io.netty.handler.ssl.ReferenceCountedOpenSslEngine,
                    "the port encrypts with " + engine.getClass().getName());
            assertEquals("BoringSSL (netty-tcnative)", tls.implementation());
        } finally {
            port.finishAndReleaseAll();
        }
    }

    /**
     * With BoringSSL, both ends hand their TLS a quarter MiB per encryption call, not Netty's one
     * 16 KiB record (it costs them less CPU so): a 4 MiB message leaves each end in about 17
     * encrypted buffers, not 257, and still arrives whole and in order.
     */
    @Test
    void aLargeMessageIsEncryptedAQuarterMebibyteAtATimeAndArrivesWhole() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.handler.ssl.OpenSsl.isAvailable(),
                "the JDK's TLS encrypts one record per call whatever it is asked");
        byte[] sent = new byte[4 * 1024 * 1024 + 12345];
        new Random(23).nextBytes(sent);
        AtomicInteger nodeWrites = new AtomicInteger();
        ServerTls tls = ServerTls.of(TlsConfig.node(ca.cert(), node1.cert(), node1.key()));
        Channel echo = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        tls.addTo(ch.pipeline());
                        ch.pipeline().addFirst(new WriteCounter(nodeWrites));
                        ch.pipeline().addLast(new Collector(sent.length, (ctx, whole) -> ctx.writeAndFlush(Unpooled.wrappedBuffer(whole))));
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
        try {
            BlockingQueue<byte[]> echoed = new LinkedBlockingQueue<>();
            AtomicInteger clientWrites = new AtomicInteger();
            Channel ch = connect(TlsConfig.client(ca.cert()), "127.0.0.1", ((InetSocketAddress) echo.localAddress()).getPort());
            ch.pipeline().addFirst(new WriteCounter(clientWrites));
            ch.pipeline().addLast(new Collector(sent.length, (ctx, whole) -> echoed.add(whole)));
            ch.writeAndFlush(Unpooled.wrappedBuffer(sent)).syncUninterruptibly();
            byte[] back = echoed.poll(30, TimeUnit.SECONDS);
            assertTrue(java.util.Arrays.equals(sent, back), "the echo differs from what was sent");
            int most = sent.length / TlsProtocols.WRAP_BYTES + 2;
            assertTrue(clientWrites.get() <= most, "the client wrote " + clientWrites.get() + " encrypted buffers");
            assertTrue(nodeWrites.get() <= most, "the node wrote " + nodeWrites.get() + " encrypted buffers");
            ch.close();
        } finally {
            echo.close().syncUninterruptibly();
        }
    }

    /** Counts the buffers written to the socket, i.e. below TLS: one per encryption call. */
    private static final class WriteCounter extends io.netty.channel.ChannelOutboundHandlerAdapter {
        private final AtomicInteger writes;

        WriteCounter(AtomicInteger writes) {
            this.writes = writes;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            if (msg instanceof ByteBuf b && b.readableBytes() > 1024) {
                writes.incrementAndGet(); // not the handshake's small messages
            }
            ctx.write(msg, promise);
        }
    }

    /** Gathers {@code length} bytes, then hands them on whole. */
    private static final class Collector extends SimpleChannelInboundHandler<ByteBuf> {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final int length;
        private final java.util.function.BiConsumer<ChannelHandlerContext, byte[]> whole;

        Collector(int length, java.util.function.BiConsumer<ChannelHandlerContext, byte[]> whole) {
            this.length = length;
            this.whole = whole;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            byte[] b = new byte[msg.readableBytes()];
            msg.readBytes(b);
            bytes.write(b, 0, b.length);
            if (bytes.size() == length) {
                whole.accept(ctx, bytes.toByteArray());
            }
        }
    }

    @Test
    void keysAreReadableByTheirOwnerOnly() throws IOException {
        for (Path key : List.of(ca.key(), node1.key())) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)), key.toString());
        }
    }

    @Test
    void aClientWithoutCertificateIsServedAsAnonymous() throws Exception {
        Channel ch = connect(TlsConfig.client(ca.cert()));
        ch.writeAndFlush(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8)).syncUninterruptibly();
        assertEquals("ANONYMOUS|hello", seen.poll(10, TimeUnit.SECONDS));
        ch.close();
    }

    @Test
    void aPeerWithACertificateOfTheClusterCaIsRecordedAsANode() throws Exception {
        Channel ch = connect(new TlsConfig(true, ca.cert(), node2.cert(), node2.key()));
        ch.writeAndFlush(Unpooled.copiedBuffer("repair", StandardCharsets.UTF_8)).syncUninterruptibly();
        assertEquals("NODE CN=node-2|repair", seen.poll(10, TimeUnit.SECONDS));
        ch.close();
    }

    @Test
    void aCertificateOfAnotherCaNeverMakesAPeerANode() throws Exception {
        // The node asks for a certificate of the cluster CA; a client holding only another CA's
        // has none to offer and is served as anonymous: never as a node.
        Channel ch = connect(new TlsConfig(true, ca.cert(), rogue.cert(), rogue.key()));
        ch.writeAndFlush(Unpooled.copiedBuffer("GC_SWEEP", StandardCharsets.UTF_8)).syncUninterruptibly();
        assertEquals("ANONYMOUS|GC_SWEEP", seen.poll(10, TimeUnit.SECONDS));
        ch.close();
    }

    @Test
    void aPeerThatPresentsACertificateOfAnotherCaIsRefusedBeforeAnythingIsRead() throws Exception {
        SSLContext forcing = SSLContext.getInstance("TLS");
        forcing.init(new KeyManager[] {new ForcedKeyManager(TlsCertificates.readCertificate(rogue.cert()),
                TlsCertificates.readKey(rogue.key()))}, trusting(ca.cert()), null);
        try (SSLSocket s = (SSLSocket) forcing.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            // Under TLS 1.3 the client's side may finish before the node has checked its
            // certificate; the refusal then comes as an alert on the first read.
            IOException e = assertThrows(IOException.class, () -> {
                s.startHandshake();
                s.getOutputStream().write("GC_SWEEP".getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().flush();
                if (s.getInputStream().read() < 0) {
                    throw new java.io.EOFException("closed");
                }
            });
            assertTrue(e instanceof javax.net.ssl.SSLException || e instanceof java.io.EOFException, e.toString());
        }
        assertEquals(null, seen.poll(300, TimeUnit.MILLISECONDS), "nothing the peer sent was read");
    }

    @Test
    void aClientThatDoesNotTrustTheNodesCaRefusesIt() {
        IOException e = assertThrows(IOException.class, () -> connect(TlsConfig.client(otherCa.cert())));
        assertEquals("TLS handshake failed: its certificate is not signed by the CA this end trusts", e.getMessage());
    }

    @Test
    void aCertificateThatDoesNotNameTheHostDialledIsRefused() throws Exception {
        server.close().syncUninterruptibly();
        TlsCertificates.Issued elsewhere = TlsCertificates.issue(ca, dir.resolve("far"), "node", "node-3",
                List.of("10.9.8.7"), Instant.now());
        // The generator always adds 127.0.0.1: dial by another loopback name the certificate lacks.
        ServerTls tls = ServerTls.of(TlsConfig.node(ca.cert(), elsewhere.cert(), elsewhere.key()));
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        tls.addTo(ch.pipeline());
                        ch.pipeline().addLast(new Recorder());
                    }
                }).bind("127.0.0.2", 0).syncUninterruptibly().channel();
        int farPort = ((InetSocketAddress) server.localAddress()).getPort();
        IOException e = assertThrows(IOException.class, () -> connect(TlsConfig.client(ca.cert()), "127.0.0.2", farPort));
        assertEquals("TLS handshake failed: its certificate does not name the host it was reached at", e.getMessage());
    }

    @Test
    void plainTcpGetsNoAnswerButATlsFailure() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            byte[] answer = readToEnd(s.getInputStream());
            assertOnlyATlsAlert(answer);
        }
        assertEquals(null, seen.poll(300, TimeUnit.MILLISECONDS));
    }

    /** Nothing, or TLS alert records (content type 21) only: never an application answer. */
    static void assertOnlyATlsAlert(byte[] answer) {
        int i = 0;
        while (i < answer.length) {
            assertTrue(answer.length - i >= 5, "a truncated record: " + java.util.HexFormat.of().formatHex(answer));
            assertEquals(21, answer[i], "not a TLS alert: " + java.util.HexFormat.of().formatHex(answer));
            i += 5 + ((answer[i + 3] & 0xff) << 8 | (answer[i + 4] & 0xff));
        }
    }

    static byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (java.net.SocketException e) {
            // a reset after the alert: the connection is gone either way
        }
        return out.toByteArray();
    }

    private Channel connect(TlsConfig config) throws IOException {
        return connect(config, "127.0.0.1", port);
    }

    private Channel connect(TlsConfig config, String host, int to) throws IOException {
        ClientTls tls = ClientTls.of(config);
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        tls.addTo(c.pipeline(), host, to);
                    }
                }).connect(host, to).syncUninterruptibly().channel();
        ClientTls.awaitHandshake(ch, Duration.ofSeconds(10));
        assertFalse(PeerIdentity.of(ch).clusterCertificate(), "a client records no identity of its own");
        return ch;
    }

    private static TrustManager[] trusting(Path caCert) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("ca", TlsCertificates.readCertificate(caCert));
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        return f.getTrustManagers();
    }

    /** Presents its certificate whatever CA the node asks for, as a hostile peer would. */
    private static final class ForcedKeyManager extends X509ExtendedKeyManager {
        private final X509Certificate cert;
        private final PrivateKey key;

        ForcedKeyManager(X509Certificate cert, PrivateKey key) {
            this.cert = cert;
            this.key = key;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {"rogue"};
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return "rogue";
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return new X509Certificate[] {cert};
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return key;
        }
    }

    /** The node's request handler: records who sent what. */
    private final class Recorder extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            PeerIdentity id = PeerIdentity.of(ctx.channel());
            seen.add((id.clusterCertificate() ? "NODE " + id.subject() : "ANONYMOUS") + "|" + msg.toString(StandardCharsets.UTF_8));
        }
    }
}
