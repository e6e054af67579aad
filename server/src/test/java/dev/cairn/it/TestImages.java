package dev.cairn.it;

import dev.cairn.client.CairnClient;
import java.io.ByteArrayOutputStream;
import java.util.Random;

/** Image bytes for the cluster tests: seeded random content, and a stream image read back whole. */
final class TestImages {

    private TestImages() {}

    /** The bytes of stream image {@code name}, every chunk verified by the client. */
    static byte[] read(CairnClient client, String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        client.get(name, out);
        return out.toByteArray();
    }

    /** {@code length} bytes that depend only on {@code seed}. */
    static byte[] random(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }
}
