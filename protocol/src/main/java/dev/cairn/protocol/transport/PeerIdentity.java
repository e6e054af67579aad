package dev.cairn.protocol.transport;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * Who is at the other end of a node's connection, as TLS showed it: a holder of a certificate
 * signed by the cluster CA (a node), or anyone else (a client, or any peer of a node without TLS).
 *
 * <p>Set on the channel ({@link #KEY}) when the TLS handshake completes, before the first request
 * is read; the authentication layer reads it to treat a peer as a node.
 *
 * @param clusterCertificate true when the peer presented a certificate that the cluster CA signed
 *     (a certificate of any other CA fails the handshake, so it never gets here)
 * @param subject the certificate's subject (its distinguished name), empty when there is none
 */
public record PeerIdentity(boolean clusterCertificate, String subject) {

    /** The channel attribute that holds it. */
    public static final AttributeKey<PeerIdentity> KEY = AttributeKey.valueOf("cairn.peerIdentity");

    /** A peer that presented no certificate, or a connection without TLS. */
    public static final PeerIdentity ANONYMOUS = new PeerIdentity(false, "");

    public PeerIdentity {
        subject = subject == null ? "" : subject;
    }

    /** The identity of the peer of {@code channel}; {@link #ANONYMOUS} before a handshake and without TLS. */
    public static PeerIdentity of(Channel channel) {
        PeerIdentity id = channel.attr(KEY).get();
        return id == null ? ANONYMOUS : id;
    }
}
