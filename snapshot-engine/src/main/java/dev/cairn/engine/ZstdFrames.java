package dev.cairn.engine;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;
import java.util.function.Supplier;

/** Decoding of the zstd frames that chunks and packs are stored as: one place for the native context. */
final class ZstdFrames {

    // One decompression context per thread: creating one per 4 KiB page would cost more than the page.
    private static final ThreadLocal<ZstdDecompressCtx> DECOMPRESS = ThreadLocal.withInitial(ZstdDecompressCtx::new);

    private ZstdFrames() {}

    /**
     * Decodes the frame in {@code frame}'s remaining bytes into {@code dest[0..expected)}. {@code what}
     * names the chunk or pack in the message when the frame does not decode, or decodes to another
     * length than {@code expected}; it is asked only then (a name costs more than a page's decode).
     */
    static void decompress(ByteBuffer frame, byte[] dest, int expected, Supplier<String> what) {
        byte[] src;
        int srcOffset;
        int srcLength = frame.remaining();
        if (frame.hasArray()) {
            src = frame.array();
            srcOffset = frame.arrayOffset() + frame.position();
        } else {
            src = new byte[srcLength];
            frame.duplicate().get(src);
            srcOffset = 0;
        }
        // A frame that decodes to more than expected fails with "destination too small".
        int n;
        try {
            n = DECOMPRESS.get().decompressByteArray(dest, 0, expected, src, srcOffset, srcLength);
        } catch (ZstdException e) {
            throw new ChunkData.CorruptChunkException(what.get() + " does not decode as zstd: " + e.getMessage());
        }
        if (n != expected) {
            throw new ChunkData.CorruptChunkException(what.get() + " decodes to " + n + " bytes, its raw length is " + expected);
        }
    }

    /** A per-thread buffer of at least {@code length} bytes, for decoding only to verify. */
    static byte[] scratch(ThreadLocal<byte[]> holder, int length) {
        byte[] scratch = holder.get();
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
            holder.set(scratch);
        }
        return scratch;
    }
}
