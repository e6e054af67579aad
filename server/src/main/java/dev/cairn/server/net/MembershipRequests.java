package dev.cairn.server.net;

import static dev.cairn.server.net.Answers.done;

import dev.cairn.config.ConfigException;
import dev.cairn.config.NodeAddress;
import dev.cairn.config.NodeConfig;
import dev.cairn.protocol.Frame;
import dev.cairn.protocol.MembershipMessages;
import dev.cairn.protocol.MessageType;
import dev.cairn.protocol.Messages;
import dev.cairn.server.meta.CatalogException;
import dev.cairn.server.meta.Membership;
import dev.cairn.server.meta.MetaService;
import dev.cairn.server.net.RequestHandler.Response;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The requests about who is in the cluster: CLUSTER_INFO, MEMBERS, ADD_NODE and REMOVE_NODE. */
final class MembershipRequests {

    private final NodeConfig config;
    private final MetaService meta;

    MembershipRequests(NodeConfig config, MetaService meta) {
        this.config = config;
        this.meta = meta;
    }

    Map<MessageType, Responder> responders() {
        Map<MessageType, Responder> r = new EnumMap<>(MessageType.class);
        r.put(MessageType.CLUSTER_INFO, request -> done(Response.of(request.type(), clusterInfo().encode())));
        r.put(MessageType.MEMBERS, this::members);
        r.put(MessageType.ADD_NODE, this::addNode);
        r.put(MessageType.REMOVE_NODE, this::removeNode);
        return r;
    }

    /**
     * The members this node's catalog replica holds; before the membership is seeded (or on a
     * joining node that is not yet in the group), the nodes of its config, all active.
     */
    private Membership membership() {
        try {
            Membership m = meta.membership();
            if (m.isSeeded()) {
                return m;
            }
        } catch (CatalogException e) {
            // not (yet) a member of the group: answer from the config
        }
        return new Membership(0, config.nodes().stream().map(n -> new MembershipMessages.Member(n.id(), n.host(), n.port(),
                n.raftPort(), n.httpPort(), n.zone(), MembershipMessages.MemberState.ACTIVE)).toList());
    }

    private Messages.ClusterInfo clusterInfo() {
        Membership m = membership();
        List<Messages.Peer> peers = new ArrayList<>();
        m.members().forEach(n -> peers.add(new Messages.Peer(n.id(), n.host(), n.port(), n.httpPort(), n.zone(), n.state())));
        return new Messages.ClusterInfo(config.nodeId(), config.quorum().replicas(), config.quorum().writeQuorum(),
                config.quorum().readQuorum(), peers, m.index());
    }

    private CompletableFuture<Response> members(Frame request) {
        Membership m = membership();
        List<String> raftPeers;
        try {
            raftPeers = meta.raftPeers();
        } catch (CatalogException e) {
            raftPeers = List.of(); // a joining node that is not in the group yet
        }
        return done(Response.of(request.type(), new MembershipMessages.MemberList(m.index(), m.members(), raftPeers).encode()));
    }

    private CompletableFuture<Response> addNode(Frame request) {
        MembershipMessages.Member add = MembershipMessages.Member.decode(request.header());
        NodeAddress address;
        try {
            address = new NodeAddress(add.id(), add.host(), add.port(), add.raftPort(), add.httpPort(), add.zone());
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return meta.addMember(address).thenApply(i -> Response.of(request.type(), Messages.encodeLong(i)));
    }

    private CompletableFuture<Response> removeNode(Frame request) {
        MembershipMessages.RemoveNode remove = MembershipMessages.RemoveNode.decode(request.header());
        CompletableFuture<Long> index = remove.phase() == MembershipMessages.RemovePhase.MARK_LEAVING
                ? meta.markLeaving(remove.id()) : meta.dropMember(remove.id());
        return index.thenApply(i -> Response.of(request.type(), Messages.encodeLong(i)));
    }
}
