package dev.cairn.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Header messages of the QUOTA_SET, QUOTA_LIST and QUOTA_REMOVE requests and their answers. */
public final class QuotaMessages {

    private QuotaMessages() {}

    /**
     * Refuses a quota prefix that is empty, over 256 characters or does not end in {@code /}: the
     * rule of a token prefix, since a tenant is its prefix and {@code team-a} without the slash
     * would also count {@code team-ab/...}, another tenant's names.
     */
    public static String checkPrefix(String prefix) {
        if (prefix == null || prefix.isEmpty() || prefix.length() > 256) {
            throw new IllegalArgumentException("a quota prefix is 1-256 characters, not '" + prefix + "'");
        }
        if (!prefix.endsWith("/")) {
            throw new IllegalArgumentException("quota prefix '" + prefix + "' must end with / (write '" + prefix
                    + "/'): without it, it would also count names such as '" + prefix + "x/...' of other tenants");
        }
        return prefix;
    }

    /** Refuses a quota of less than one byte. */
    public static long checkMaxBytes(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("a quota is at least 1 byte, not " + maxBytes
                    + " (to lift a quota, remove it: cairn admin quota rm PREFIX)");
        }
        return maxBytes;
    }

    /** QUOTA_SET request: the prefix and its new maximum of logical bytes. */
    public record SetQuota(String prefix, long maxBytes) {
        public SetQuota {
            checkPrefix(prefix);
            checkMaxBytes(maxBytes);
        }

        public ByteBuffer encode() {
            return new WireWriter(32 + prefix.length()).string(prefix).i64(maxBytes).toBuffer();
        }

        public static SetQuota decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            try {
                SetQuota s = new SetQuota(r.string("quota prefix"), r.i64("max bytes"));
                r.end("quota set request");
                return s;
            } catch (IllegalArgumentException e) {
                throw new ProtocolException(e.getMessage());
            }
        }
    }

    /** One quota: its prefix, the logical bytes of the images under it now, and its maximum. */
    public record QuotaInfo(String prefix, long usedBytes, long maxBytes) {
        void write(WireWriter w) {
            w.string(prefix).i64(usedBytes).i64(maxBytes);
        }

        static QuotaInfo read(WireReader r) {
            return new QuotaInfo(r.string("quota prefix"), r.i64("used bytes"), r.i64("max bytes"));
        }
    }

    /** QUOTA_LIST response, in prefix order. */
    public record QuotaList(List<QuotaInfo> quotas) {
        public QuotaList {
            quotas = List.copyOf(quotas);
        }

        public ByteBuffer encode() {
            WireWriter w = new WireWriter(16 + quotas.size() * 48).i32(quotas.size());
            quotas.forEach(q -> q.write(w));
            return w.toBuffer();
        }

        public static QuotaList decode(ByteBuffer header) {
            WireReader r = new WireReader(header);
            int count = r.count("quotas", 18);
            List<QuotaInfo> quotas = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                quotas.add(QuotaInfo.read(r));
            }
            r.end("quota list");
            return new QuotaList(quotas);
        }
    }
}
