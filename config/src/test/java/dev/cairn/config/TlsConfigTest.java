package dev.cairn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code tls:} section of a node's file and the CLI's {@code CAIRN_TLS_CA}. */
class TlsConfigTest {

    @TempDir
    Path dir;

    private Path write(String tls) throws Exception {
        Path file = dir.resolve("cairn.yaml");
        Files.writeString(file, "nodeId: a\ndataDir: data\nnodes:\n  - {id: a, host: 127.0.0.1, port: 7400, raftPort: 7401, httpPort: 7402}\n" + tls);
        return file;
    }

    @Test
    void aFileWithoutTlsIsPlain() throws Exception {
        assertEquals(TlsConfig.OFF, ConfigFiles.loadNode(write("")).tls());
    }

    @Test
    void relativePemPathsAreResolvedAgainstTheFilesFolder() throws Exception {
        for (String f : new String[] {"ca.pem", "node.pem", "node-key.pem"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        TlsConfig tls = ConfigFiles.loadNode(write("tls: {enabled: true, caCert: ca.pem, cert: node.pem, key: node-key.pem}\n")).tls();
        assertEquals(new TlsConfig(true, dir.resolve("ca.pem"), dir.resolve("node.pem"), dir.resolve("node-key.pem")), tls);
    }

    @Test
    void anEnabledTlsWithoutItsFilesIsRefusedNamingTheField() throws Exception {
        ConfigException missing = assertThrows(ConfigException.class,
                () -> ConfigFiles.loadNode(write("tls: {enabled: true, caCert: ca.pem}\n")));
        assertTrue(missing.getMessage().contains("tls.cert and tls.key are missing"), missing.getMessage());
        ConfigException absent = assertThrows(ConfigException.class,
                () -> ConfigFiles.loadNode(write("tls: {enabled: true, caCert: nope.pem, cert: n.pem, key: k.pem}\n")));
        assertTrue(absent.getMessage().contains("tls.caCert: ") && absent.getMessage().contains("does not exist"),
                absent.getMessage());
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> ConfigFiles.loadNode(write("tls: {enabled: true, ca: x}\n")));
        assertTrue(unknown.getMessage().contains("unknown field 'ca'"), unknown.getMessage());
    }

    @Test
    void theClisCaComesFromItsEnvironment() throws Exception {
        assertEquals(TlsConfig.OFF, ClientConfig.tlsFromEnv(null));
        assertEquals(TlsConfig.OFF, ClientConfig.tlsFromEnv(""));
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        assertEquals(TlsConfig.client(ca), ClientConfig.tlsFromEnv(ca.toString()));
        ConfigException e = assertThrows(ConfigException.class, () -> ClientConfig.tlsFromEnv(dir.resolve("gone.pem").toString()));
        assertTrue(e.getMessage().startsWith("CAIRN_TLS_CA names "), e.getMessage());
    }
}
