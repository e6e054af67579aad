package dev.cairn.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Jepsen's checker for the image store. It reads the whole history — the workload's operations
 * and the final reads made after every fault was healed (process {@code final}) — and judges:
 * <ol>
 *   <li>every acknowledged put is readable and byte-exact at the end, unless a delete of it was
 *       acknowledged or left unknown (else it is <em>lost</em>);</li>
 *   <li>no get ever returned bytes other than those put under that name (else <em>corrupt</em>);
 *       this covers puts left unknown: such an image is absent or complete, never partial;</li>
 *   <li>an image whose delete was acknowledged stays deleted: no final read and no get invoked
 *       after the acknowledgement finds it;</li>
 *   <li>an acknowledged put is visible to every get invoked after the acknowledgement, until a
 *       delete of it is invoked (reads are linearizable through the Raft leader);</li>
 *   <li>a put that failed definitely is not visible.</li>
 * </ol>
 * GC epochs run during the workload and once more before the final reads (process {@code gc}
 * and {@code final-gc}); the GC invariant, that no sweep frees a chunk a committed image needs,
 * is checked through 1 and 2: such an image reads back incomplete or not at all.
 */
final class Checker {

    static final boolean STRICT = Boolean.getBoolean("cairn.chaos.strict");

    /**
     * {@code doubleCommits}: puts told "ImageExists" for a name no other put used, whose image is
     * there with exactly their bytes, and deletes of an acknowledged image told "not found" — the
     * operation's own first submission went through and a second submission of it was refused
     * (see docs/testing.md, "Found so far"). Counted apart, not as violations, unless
     * {@code -Dcairn.chaos.strict=true}; such a delete counts as one that may have happened.
     */
    record Result(long ops, long acked, long lost, long corrupt, List<String> violations, List<String> doubleCommits,
                  long gcEpochs, long gcCompleted, long gcFreedChunks) {
        boolean valid() {
            return lost == 0 && corrupt == 0 && violations.isEmpty();
        }
    }

    private static final class Image {
        String sha256;
        long size;
        History.Type putStatus;
        String putError;
        long putOkTime = Long.MAX_VALUE;
        long deleteInvokeTime = Long.MAX_VALUE;
        History.Type deleteStatus;
        long deleteOkTime = Long.MAX_VALUE;
    }

    static Result check(List<History.Op> history) {
        Map<String, Image> images = new HashMap<>();
        Map<String, History.Op> pending = new HashMap<>();
        List<History.Op[]> gets = new ArrayList<>();
        long ops = 0;
        List<String> deleteFailures = new ArrayList<>();
        List<String> doubleCommits = new ArrayList<>();
        long gcEpochs = 0;
        long gcCompleted = 0;
        long gcFreedChunks = 0;
        for (History.Op op : history) {
            if (op.process().equals("nemesis") || op.f().equals("worker-ended")) {
                continue;
            }
            if (op.f().equals("gc")) {
                if (op.type() == History.Type.invoke) {
                    gcEpochs++;
                } else if (op.type() == History.Type.ok) {
                    gcCompleted++;
                    gcFreedChunks += op.size();
                }
                continue;
            }
            if (op.type() == History.Type.invoke) {
                if (!op.process().equals("final")) {
                    ops++;
                }
                pending.put(op.process(), op);
                if (op.f().equals("put")) {
                    Image img = images.computeIfAbsent(op.name(), n -> new Image());
                    img.sha256 = op.sha256();
                    img.size = op.size();
                } else if (op.f().equals("delete")) {
                    Image img = images.computeIfAbsent(op.name(), n -> new Image());
                    img.deleteInvokeTime = Math.min(img.deleteInvokeTime, op.time());
                }
                continue;
            }
            History.Op invoke = pending.remove(op.process());
            Image img = images.computeIfAbsent(op.name(), n -> new Image());
            switch (op.f()) {
                case "put" -> {
                    img.putStatus = op.type();
                    img.putError = op.error();
                    if (op.type() == History.Type.ok) {
                        img.putOkTime = op.time();
                    }
                }
                case "delete" -> {
                    img.deleteStatus = op.type();
                    if (op.type() == History.Type.fail && invoke != null && invoke.time() > img.putOkTime) {
                        if (!STRICT && op.error() != null && op.error().startsWith("ImageNotFound")) {
                            // its own first submission deleted it (see doubleCommits); it may have happened
                            img.deleteStatus = History.Type.info;
                            doubleCommits.add("delete " + op.name());
                        } else {
                            deleteFailures.add("delete #" + invoke.index() + " of " + op.name()
                                    + " failed though its put was acknowledged before: " + op.error());
                        }
                    }
                    if (op.type() == History.Type.ok) {
                        img.deleteOkTime = op.time();
                    }
                }
                case "get" -> gets.add(new History.Op[] {invoke, op});
                default -> { }
            }
        }
        long acked = images.values().stream().filter(i -> i.putStatus == History.Type.ok).count();
        long corrupt = 0;
        long lost = 0;
        List<String> violations = new ArrayList<>(deleteFailures);
        Map<String, History.Op> finals = new HashMap<>();
        for (History.Op[] g : gets) {
            History.Op invoke = g[0];
            History.Op done = g[1];
            Image img = images.get(done.name());
            String who = done.process().equals("final") ? "final read" : "get #" + invoke.index() + " (" + done.process() + ")";
            if (done.process().equals("final")) {
                finals.put(done.name(), done);
            }
            if (done.type() == History.Type.ok) {
                if (img == null || img.sha256 == null) {
                    corrupt++;
                    violations.add(who + " of " + done.name() + " returned " + done.size() + " bytes but it was never put");
                } else if (!img.sha256.equals(done.sha256()) || img.size != done.size()) {
                    corrupt++;
                    violations.add(who + " of " + done.name() + " returned " + done.size() + " bytes sha256 " + done.sha256()
                            + ", but " + img.size + " bytes sha256 " + img.sha256 + " were put (put " + img.putStatus + ")");
                }
                if (img != null && invoke.time() > img.deleteOkTime) {
                    violations.add(who + " of " + done.name() + " found it after its delete was acknowledged");
                }
                if (img != null && img.putStatus == History.Type.fail) {
                    boolean ownCommit = img.putError != null && img.putError.startsWith("ImageExists")
                            && img.sha256 != null && img.sha256.equals(done.sha256());
                    if (ownCommit && !STRICT) {
                        if (!doubleCommits.contains("put " + done.name())) {
                            doubleCommits.add("put " + done.name());
                        }
                    } else {
                        violations.add(who + " of " + done.name() + " found it though its put failed definitely ("
                                + img.putError + ")");
                    }
                }
            } else if ("not-found".equals(done.error()) && img != null && !done.process().equals("final")
                    && invoke.time() > img.putOkTime && done.time() < img.deleteInvokeTime) {
                violations.add(who + " of " + done.name() + " found nothing though its put was acknowledged before the get"
                        + " and no delete had been invoked (stale read)");
            }
        }
        for (Map.Entry<String, Image> e : images.entrySet()) {
            Image img = e.getValue();
            History.Op fin = finals.get(e.getKey());
            boolean deleteMayHaveHappened = img.deleteStatus == History.Type.ok || img.deleteStatus == History.Type.info
                    || (img.deleteInvokeTime != Long.MAX_VALUE && img.deleteStatus == null);
            if (img.putStatus == History.Type.ok && !deleteMayHaveHappened) {
                if (fin == null || fin.type() != History.Type.ok) {
                    lost++;
                    violations.add("lost: " + e.getKey() + " (put acknowledged, never deleted) final read: "
                            + (fin == null ? "none" : fin.error()));
                }
            }
        }
        return new Result(ops, acked, lost, corrupt, violations, doubleCommits, gcEpochs, gcCompleted, gcFreedChunks);
    }
}
