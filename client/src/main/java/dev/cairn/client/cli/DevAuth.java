package dev.cairn.client.cli;

import dev.cairn.client.CairnAdmin;
import dev.cairn.config.ClientConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

/**
 * The secrets of a {@code cairn dev} cluster, under its data directory and readable by its user
 * only (0600): the cluster secret the nodes present to each other ({@code cluster.secret}) and an
 * admin token for the person who started it ({@code admin.token}, made with the cluster secret).
 * Both are made once and kept, so a restarted dev cluster keeps its tokens.
 */
final class DevAuth {

    static final String CLUSTER_SECRET = "cluster.secret";
    static final String ADMIN_TOKEN = "admin.token";

    private DevAuth() {}

    /** {@code dataDir/cluster.secret}, written with 32 random bytes if it does not exist. */
    static Path clusterSecret(Path dataDir) throws IOException {
        Path file = dataDir.resolve(CLUSTER_SECRET);
        if (!Files.exists(file)) {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            writePrivate(file, "node." + Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
        }
        return file;
    }

    /**
     * {@code dataDir/admin.token}: created on the running cluster the first time,
     * through {@code asNode}, a client that presents the cluster secret (its token; null for nodes configured without one,
     * a data directory from before tokens, whose nodes take a connection without a token as an
     * admin), kept after that.
     */
    static Path adminToken(Path dataDir, ClientConfig asNode) throws IOException {
        Path file = dataDir.resolve(ADMIN_TOKEN);
        if (Files.exists(file)) {
            return file;
        }
        try (CairnAdmin admin = CairnAdmin.connect(asNode)) {
            writePrivate(file, admin.createToken("dev", "admin", List.of()).token());
        }
        return file;
    }

    /** Creates {@code file} readable and writable by its owner only, before a byte of the secret is in it. */
    private static void writePrivate(Path file, String line) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
