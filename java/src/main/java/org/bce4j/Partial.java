package org.bce4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A mergeable partial loss: what a loss call over some of the data contributes to the reduced loss of all of it
 * (the loss sum, the weight sum, the element count, the count of elements not ignored and of those with a nonzero
 * weight), from {@link BinaryCrossEntropy#partial(Tensor, Tensor)}. Partials of any parts of the data, merged in any
 * order and grouping, {@link #finish(Reduction) finish} to every reduction of the whole, bit for bit the same
 * however the data was split into calls (or Spark partitions) and threads: the sums are order-independent (binned)
 * sums of the per-element losses, which the kernels in use compute (see {@link Bce4j#cpuIsa()}: machines running
 * other kernels differ in the losses' last bits; {@code BCE4J_ISA} pins them). Gradients are not part of a partial.
 *
 * <p>Immutable and thread-safe; {@link #equals(Object)} compares the state (equal partials have equal
 * {@link #toBytes() bytes}). Not {@link java.io.Serializable}: {@link #toBytes()} and {@link #fromBytes(byte[])}
 * give its versioned, platform-independent serialised form.
 */
public final class Partial {
    private static final Partial EMPTY;

    static {
        NativeLoader.ensureLoaded();
        // In the second struct: this may run inside Partial.of, whose partial is in the first.
        PartialScratch scratch = PartialScratch.current();
        NativeLibrary.bce4j_partial_init(scratch.second);
        EMPTY = new Partial(scratch.write(scratch.second));
    }

    private final byte[] bytes; // the serialised form (bce4j_partial_serialize), checked

    private Partial(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The partial of the native struct at {@code address} ({@code first}) in this thread's scratch. */
    static Partial of(PartialScratch scratch, long address) {
        return new Partial(scratch.write(address));
    }

    /** {@return the partial of no elements} */
    public static Partial empty() {
        return EMPTY;
    }

    /**
     * {@return the partial of this one's elements and {@code other}'s} Associative and commutative, bit for bit.
     *
     * @param other the partial to add
     * @throws NullPointerException if {@code other} is null
     * @throws IllegalArgumentException if the merged partial would hold more than 2^63-1 elements
     */
    public Partial merge(Partial other) {
        Checks.notNull(other, "other");
        PartialScratch scratch = PartialScratch.current();
        scratch.read(bytes, scratch.first);
        scratch.read(other.bytes, scratch.second);
        NativeStatus.check(NativeLibrary.bce4j_partial_merge(scratch.first, scratch.second));
        return of(scratch, scratch.first);
    }

    /**
     * The reduced loss of this partial's elements, divided as a loss call with {@code reduction} divides: MEAN by
     * {@link #count()} (NaN for none), SUM by 1, MEAN_BY_WEIGHT by {@link #weightSum()}, MEAN_BY_NONZERO_WEIGHT by
     * {@link #nonzeroWeightCount()}, MEAN_VALID by {@link #validCount()} (each of these three 0 for a denominator of
     * 0).
     *
     * @param reduction any but {@link Reduction#NONE}
     * @return the reduced loss
     * @throws NullPointerException if {@code reduction} is null
     * @throws IllegalArgumentException if {@code reduction} is {@link Reduction#NONE}
     */
    public double finish(Reduction reduction) {
        Checks.notNull(reduction, "reduction");
        PartialScratch scratch = PartialScratch.current();
        scratch.read(bytes, scratch.first);
        NativeStatus.check(NativeLibrary.bce4j_partial_finish(scratch.first, reduction.code, scratch.value));
        return scratch.value();
    }

    /** {@return the number of elements added} */
    public long count() {
        return field(8);
    }

    /** {@return the number of elements not ignored (whose target is not the ignore index)} */
    public long validCount() {
        return field(16);
    }

    /** {@return the number of elements whose broadcast weight is not 0 (every element without a weight)} */
    public long nonzeroWeightCount() {
        return field(24);
    }

    /** {@return the sum of the per-element (weighted) losses, rounded once} */
    public double lossSum() {
        PartialScratch scratch = PartialScratch.current();
        scratch.read(bytes, scratch.first);
        NativeStatus.check(NativeLibrary.bce4j_partial_loss_sum(scratch.first, scratch.value));
        return scratch.value();
    }

    /** {@return the sum of the weights broadcast to the inputs (1 per element without a weight), rounded once} */
    public double weightSum() {
        PartialScratch scratch = PartialScratch.current();
        scratch.read(bytes, scratch.first);
        NativeStatus.check(NativeLibrary.bce4j_partial_weight_sum(scratch.first, scratch.value));
        return scratch.value();
    }

    /**
     * {@return the serialised form: 160 bytes, little-endian, its version first
     * (that of {@code bce4j_partial_serialize})}
     */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /**
     * The partial serialised in {@code bytes} by {@link #toBytes()} (or {@code bce4j_partial_serialize}).
     *
     * @param bytes the serialised form
     * @return the partial
     * @throws NullPointerException if {@code bytes} is null
     * @throws IllegalArgumentException naming the problem, if the bytes are not a serialised partial of this
     *     version (another version or length, counts or sums out of range)
     */
    public static Partial fromBytes(byte[] bytes) {
        Checks.notNull(bytes, "bytes");
        PartialScratch scratch = PartialScratch.current();
        scratch.read(bytes, scratch.first);
        return of(scratch, scratch.first);
    }

    private long field(int offset) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Partial p && Arrays.equals(bytes, p.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "Partial[count=" + count() + ", validCount=" + validCount() + ", nonzeroWeightCount="
                + nonzeroWeightCount() + ", lossSum=" + lossSum() + ", weightSum=" + weightSum() + "]";
    }
}
