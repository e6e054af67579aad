package dev.cairn.client.criu;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * A listening socket for one dump: criu's page-xfer opens exactly one connection per dump (and
 * per pre-dump) and sends every pagemap through it, so the listener accepts one connection and
 * stops listening. Plain blocking sockets: one dump is one sequential conversation. Lazy restores
 * keep it listening for as many connections as restores are served ({@link LazyRestores}).
 */
public final class PageServerListener implements AutoCloseable {

    private final ServerSocket server;
    private final PageServerLimits limits;

    private PageServerListener(ServerSocket server, PageServerLimits limits) {
        this.server = server;
        this.limits = limits;
    }

    /** Listens on {@code address}:{@code port} (0 picks a free port) for one connection. */
    public static PageServerListener bind(InetAddress address, int port, PageServerLimits limits) throws IOException {
        return bind(address, port, limits, 1);
    }

    /**
     * Listens on {@code address}:{@code port} for up to {@code waiting} connections queued at once
     * (the lazy restores that connect while others are served).
     */
    public static PageServerListener bind(InetAddress address, int port, PageServerLimits limits, int waiting)
            throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            server.bind(new InetSocketAddress(address, port), Math.max(1, waiting));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen for criu on " + address.getHostAddress() + ":" + port + ": "
                    + e.getMessage() + " (choose another --port)", e);
        }
        return new PageServerListener(server, limits);
    }

    /** The port criu must be given ({@code --page-server --port P}). */
    public int port() {
        return server.getLocalPort();
    }

    /** The address criu must be given ({@code --address A}). */
    public InetAddress address() {
        return server.getInetAddress();
    }

    /**
     * Waits up to {@code timeout} for criu to connect, then stops listening. The connection's
     * reads time out after the limits' idle timeout.
     */
    public Socket accept(Duration timeout) throws IOException {
        try {
            Socket socket = tryAccept(timeout);
            if (socket == null) {
                throw new IOException("criu did not connect to the page server on port " + port() + " within "
                        + timeout.toSeconds() + " s; check that criu was given --page-server --port " + port());
            }
            return socket;
        } finally {
            server.close();
        }
    }

    /** The connection criu opened within {@code timeout}, or null (still listening) when it has not. */
    public Socket tryAccept(Duration timeout) throws IOException {
        server.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
        Socket socket;
        try {
            socket = server.accept();
        } catch (SocketTimeoutException e) {
            return null;
        }
        socket.setTcpNoDelay(true); // criu waits for each answer before it goes on
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, limits.idleTimeout().toMillis()));
        return socket;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
