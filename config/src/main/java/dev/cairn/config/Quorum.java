package dev.cairn.config;

/**
 * Replication factor and quorum sizes of a cluster, valid by construction.
 *
 * <p>Gifford's rules: a read quorum must overlap every write quorum (N_R + N_W &gt; N) and two
 * write quorums must overlap (N_W &gt; N/2). A configuration that breaks either could acknowledge
 * a write that a later read does not see, so it is refused before anything starts.
 */
public record Quorum(int replicas, int writeQuorum, int readQuorum) {

    public Quorum {
        if (replicas < 1) {
            throw new ConfigException("replicas (N) must be at least 1, got " + replicas);
        }
        if (writeQuorum < 1 || writeQuorum > replicas) {
            throw new ConfigException("writeQuorum (N_W) must be between 1 and replicas (N=" + replicas
                    + "), got " + writeQuorum);
        }
        if (readQuorum < 1 || readQuorum > replicas) {
            throw new ConfigException("readQuorum (N_R) must be between 1 and replicas (N=" + replicas
                    + "), got " + readQuorum);
        }
        if (readQuorum + writeQuorum <= replicas) {
            throw new ConfigException("quorums break the rule N_R + N_W > N: N_R=" + readQuorum + " + N_W="
                    + writeQuorum + " = " + (readQuorum + writeQuorum) + " is not greater than N=" + replicas
                    + "; raise readQuorum or writeQuorum");
        }
        if (2 * writeQuorum <= replicas) {
            throw new ConfigException("quorums break the rule N_W > N/2: N_W=" + writeQuorum + " is not greater than N/2="
                    + (replicas / 2.0) + "; raise writeQuorum to at least " + (replicas / 2 + 1));
        }
    }

    /** The default for a cluster of {@code nodes} nodes: N = min(nodes, 3), N_W = N_R = majority of N. */
    public static Quorum defaultFor(int nodes) {
        int n = Math.max(1, Math.min(nodes, 3));
        int majority = n / 2 + 1;
        return new Quorum(n, majority, majority);
    }
}
