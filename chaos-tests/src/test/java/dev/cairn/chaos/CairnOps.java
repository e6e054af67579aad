package dev.cairn.chaos;

import dev.cairn.client.CairnClient;
import dev.cairn.client.CairnException;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Jepsen's client: performs one operation through {@link CairnClient} and records it in the
 * history as an invoke and its completion. Which errors mean "certainly not done" (fail) and
 * which mean "unknown" (info) is decided here, per operation.
 */
final class CairnOps {

    private final History history;
    private final String process;
    private final CairnClient client;

    CairnOps(History history, String process, CairnClient client) {
        this.history = history;
        this.process = process;
        this.client = client;
    }

    /** Puts {@code bytes} as a stream image; true when acknowledged. */
    boolean put(String name, byte[] bytes) {
        history.invoke(process, "put", name, sha256(bytes), bytes.length);
        try {
            client.put(name, new ByteArrayInputStream(bytes));
            history.add(process, History.Type.ok, "put", name, null, 0, null);
            return true;
        } catch (CairnException.ImageExists | CairnException.InvalidName | CairnException.LocalIo e) {
            history.add(process, History.Type.fail, "put", name, null, 0, message(e));
        } catch (RuntimeException e) {
            // timeouts, unreachable nodes, lost quorums: the put may still have committed
            history.add(process, History.Type.info, "put", name, null, 0, message(e));
        }
        return false;
    }

    /** Reads an image; a read changes nothing, so every error is a fail ("not-found" when absent). */
    Result get(String name) {
        history.invoke(process, "get", name, null, 0);
        DigestStream out = new DigestStream();
        try {
            client.get(name, out);
            String sha = out.hex();
            history.add(process, History.Type.ok, "get", name, sha, out.size, null);
            return new Result(Outcome.FOUND, sha, out.size);
        } catch (CairnException.ImageNotFound e) {
            history.add(process, History.Type.fail, "get", name, null, 0, "not-found");
            return new Result(Outcome.NOT_FOUND, null, 0);
        } catch (RuntimeException e) {
            history.add(process, History.Type.fail, "get", name, null, 0, message(e));
            return new Result(Outcome.ERROR, null, 0);
        }
    }

    /** Deletes an image; ok, fail (it did not exist) or info. */
    History.Type delete(String name) {
        history.invoke(process, "delete", name, null, 0);
        try {
            client.delete(name);
            history.add(process, History.Type.ok, "delete", name, null, 0, null);
            return History.Type.ok;
        } catch (CairnException.ImageNotFound | CairnException.InvalidName e) {
            history.add(process, History.Type.fail, "delete", name, null, 0, message(e));
            return History.Type.fail;
        } catch (RuntimeException e) {
            history.add(process, History.Type.info, "delete", name, null, 0, message(e));
            return History.Type.info;
        }
    }

    /**
     * Runs one GC epoch: ok when it completed (size = chunks freed on all nodes), fail when it was
     * abandoned (a node down, old upload sessions), info when the call itself failed (the epoch may
     * have run). A sweep that freed a chunk some committed image still needs shows up as a lost or
     * corrupt image in the final reads, which is what running GC here is for.
     */
    History.Type gc(java.time.Duration maxSessionWait) {
        history.invoke(process, "gc", null, null, 0);
        try {
            dev.cairn.client.GcReport r = dev.cairn.client.CairnAdmin.of(client).gc(maxSessionWait);
            if (r.completed()) {
                history.add(process, History.Type.ok, "gc", null, null, r.freedChunks(), null);
                return History.Type.ok;
            }
            history.add(process, History.Type.fail, "gc", null, null, 0, "abandoned: " + r.abandonedBecause());
            return History.Type.fail;
        } catch (RuntimeException e) {
            history.add(process, History.Type.info, "gc", null, null, 0, message(e));
            return History.Type.info;
        }
    }

    enum Outcome { FOUND, NOT_FOUND, ERROR }

    record Result(Outcome outcome, String sha256, long size) {}

    static String message(Throwable e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Keeps only the digest and the length of what a get writes. */
    private static final class DigestStream extends OutputStream {
        private final MessageDigest md = digest();
        long size;

        @Override
        public void write(int b) {
            md.update((byte) b);
            size++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            md.update(b, off, len);
            size += len;
        }

        String hex() {
            return HexFormat.of().formatHex(md.digest());
        }
    }
}
