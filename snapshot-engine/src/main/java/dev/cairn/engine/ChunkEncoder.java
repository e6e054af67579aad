package dev.cairn.engine;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Hashes and encodes chunks: zstd at a configurable level, or raw when compression saves less
 * than {@link #MIN_SAVING_DIVISOR 1/32} (about 3%) of the bytes, because a reader then pays a
 * decode for nothing. Holds a native compression context: one encoder per thread.
 */
public final class ChunkEncoder implements AutoCloseable {

    /** zstd level used unless configured otherwise (the corpus measurement used level 3). */
    public static final int DEFAULT_LEVEL = 3;
    /** Compression is kept only when it saves at least rawLength / 32 bytes. */
    public static final int MIN_SAVING_DIVISOR = 32;

    private final int level;
    private final ZstdCompressCtx ctx;
    private byte[] scratch = new byte[0];
    private byte[] packInput = new byte[0];

    public ChunkEncoder(int level) {
        this.level = checkLevel(level);
        this.ctx = new ZstdCompressCtx();
        ctx.setLevel(level);
        // The chunk record already carries the raw length and the SHA-256: the frame needs neither.
        ctx.setContentSize(false);
        ctx.setChecksum(false);
    }

    public ChunkEncoder() {
        this(DEFAULT_LEVEL);
    }

    /** {@code level}, if zstd has it; for checking a level before any encoder is opened. */
    static int checkLevel(int level) {
        if (level < Zstd.minCompressionLevel() || level > Zstd.maxCompressionLevel()) {
            throw new IllegalArgumentException("zstd level " + level + " is outside " + Zstd.minCompressionLevel()
                    + ".." + Zstd.maxCompressionLevel());
        }
        return level;
    }

    public int level() {
        return level;
    }

    /** Hashes and encodes {@code length} bytes of {@code data} from {@code offset}; the result owns its bytes. */
    public ChunkData encode(byte[] data, int offset, int length) {
        return encode(ChunkId.of(data, offset, length), data, offset, length);
    }

    /** Encodes bytes whose id the caller has already computed. */
    public ChunkData encode(ChunkId id, byte[] data, int offset, int length) {
        int bound = (int) Zstd.compressBound(length);
        if (scratch.length < bound) {
            scratch = new byte[bound];
        }
        int compressed = length == 0 ? Integer.MAX_VALUE : ctx.compressByteArray(scratch, 0, bound, data, offset, length);
        if (compressed < length - length / MIN_SAVING_DIVISOR) {
            return new ChunkData(id, ChunkCodec.ZSTD, length, ByteBuffer.wrap(Arrays.copyOf(scratch, compressed)));
        }
        return new ChunkData(id, ChunkCodec.RAW, length, ByteBuffer.wrap(Arrays.copyOfRange(data, offset, offset + length)));
    }

    /**
     * {@code chunk} compressed if it is RAW (kept RAW when that does not pay); an encoded chunk as
     * it is. For chunks read back RAW, such as a pack's members, before they are copied elsewhere.
     */
    public ChunkData encode(ChunkData chunk) {
        if (chunk.codec() != ChunkCodec.RAW) {
            return chunk;
        }
        ByteBuffer raw = chunk.bytes();
        if (raw.hasArray()) {
            return encode(chunk.id(), raw.array(), raw.arrayOffset() + raw.position(), raw.remaining());
        }
        byte[] copy = new byte[raw.remaining()];
        raw.duplicate().get(copy);
        return encode(chunk.id(), copy, 0, copy.length);
    }

    /**
     * Compresses {@code chunks} (RAW, each at most {@link ChunkPack#MAX_MEMBER_BYTES}, together at
     * most {@link ChunkPack#MAX_RAW_BYTES}) as one pack; null when that saves less than 1/32 of
     * their bytes, in which case the caller encodes them one by one.
     */
    public ChunkPack encodePack(List<ChunkData> chunks) {
        List<ChunkPack.Member> members = new ArrayList<>(chunks.size());
        int raw = 0;
        for (ChunkData c : chunks) {
            if (c.codec() != ChunkCodec.RAW) {
                throw new IllegalArgumentException("chunk " + c.id().shortHex() + "… is already encoded (" + c.codec() + ")");
            }
            members.add(new ChunkPack.Member(c.id(), c.rawLength()));
            raw += c.rawLength();
        }
        if (raw > ChunkPack.MAX_RAW_BYTES) {
            throw new IllegalArgumentException("a pack decodes to at most " + ChunkPack.MAX_RAW_BYTES + " bytes, not " + raw);
        }
        if (packInput.length < raw) {
            packInput = new byte[ChunkPack.MAX_RAW_BYTES];
        }
        int offset = 0;
        for (ChunkData c : chunks) {
            c.bytes().duplicate().get(packInput, offset, c.rawLength());
            offset += c.rawLength();
        }
        int bound = (int) Zstd.compressBound(raw);
        if (scratch.length < bound) {
            scratch = new byte[bound];
        }
        int compressed = ctx.compressByteArray(scratch, 0, bound, packInput, 0, raw);
        if (compressed >= raw - raw / MIN_SAVING_DIVISOR) {
            return null;
        }
        return new ChunkPack(members, ByteBuffer.wrap(Arrays.copyOf(scratch, compressed)));
    }

    @Override
    public void close() {
        ctx.close();
    }
}
