package dev.cairn.client;

import dev.cairn.engine.ChunkData;
import dev.cairn.engine.ChunkId;
import dev.cairn.engine.protocol.Messages;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Fetches chunks by id. Each chunk is asked of its replicas in placement order; the first copy
 * whose bytes hash to the id is taken, so a missing, corrupt or unreachable replica only costs a
 * second request, never a wrong byte.
 */
final class ChunkReader {

    private final Cluster cluster;

    ChunkReader(Cluster cluster) {
        this.cluster = cluster;
    }

    /** The raw, verified bytes of the chunks, in the order asked. */
    CompletableFuture<List<ByteBuffer>> fetch(List<ChunkId> ids) {
        ByteBuffer[] result = new ByteBuffer[ids.size()];
        Map<Integer, List<String>> problems = new HashMap<>();
        List<Integer> all = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            all.add(i);
        }
        return attempt(ids, all, 0, result, problems).thenApply(v -> List.of(result));
    }

    private CompletableFuture<Void> attempt(List<ChunkId> ids, List<Integer> wanted, int replicaRank,
                                            ByteBuffer[] result, Map<Integer, List<String>> problems) {
        if (wanted.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        if (replicaRank >= cluster.replicas()) {
            int first = wanted.get(0);
            String why = String.join(", ", problems.getOrDefault(first, List.of("no replica")));
            return CompletableFuture.failedFuture(new CairnException.CorruptData("chunk " + ids.get(first).shortHex()
                    + "… could not be read from any of its " + cluster.replicas() + " replicas (" + why + ")"
                    + (wanted.size() > 1 ? "; " + (wanted.size() - 1) + " more chunks failed the same way" : "")
                    + "; run cairn admin repair when nodes are back"));
        }
        Map<String, List<Integer>> byNode = new LinkedHashMap<>();
        for (int i : wanted) {
            String node = cluster.placement().nodesFor(ids.get(i), cluster.replicas()).get(replicaRank);
            byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(i);
        }
        List<Integer> retry = new ArrayList<>();
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        byNode.forEach((node, indexes) -> {
            List<ChunkId> asked = new ArrayList<>(indexes.size());
            indexes.forEach(i -> asked.add(ids.get(i)));
            calls.add(cluster.getChunks(node, asked).handle((fetched, error) -> {
                synchronized (retry) {
                    if (error != null) {
                        String why = node + ": " + Cluster.rootMessage(error);
                        indexes.forEach(i -> note(problems, i, why));
                        retry.addAll(indexes);
                        return null;
                    }
                    for (int k = 0; k < indexes.size(); k++) {
                        int i = indexes.get(k);
                        Messages.Fetched f = fetched.get(k);
                        ChunkData data = f.data();
                        if (f.status() != Messages.ChunkStatus.OK) {
                            note(problems, i, node + " " + f.status().name().toLowerCase());
                            retry.add(i);
                        } else {
                            // Decode once, then check the decoded bytes against the id.
                            ByteBuffer raw = decodeVerified(data);
                            if (raw == null) {
                                note(problems, i, node + " sent bytes that do not decode to the id's bytes");
                                retry.add(i);
                            } else {
                                result[i] = raw;
                            }
                        }
                    }
                    return null;
                }
            }));
        });
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                .thenCompose(v -> attempt(ids, retry, replicaRank + 1, result, problems));
    }

    /** The chunk's raw bytes when they decode and hash to its id, else null. */
    private static ByteBuffer decodeVerified(ChunkData data) {
        ByteBuffer raw;
        try {
            raw = data.rawBytes();
        } catch (ChunkData.CorruptChunkException e) {
            return null;
        }
        return data.id().matches(raw) ? raw : null;
    }

    private static void note(Map<Integer, List<String>> problems, int index, String why) {
        problems.computeIfAbsent(index, k -> new ArrayList<>()).add(why);
    }
}
