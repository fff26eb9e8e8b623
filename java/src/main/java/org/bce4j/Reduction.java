package org.bce4j;

/**
 * How the per-element losses are reduced: PyTorch's {@code reduction} argument ({@link #NONE}, {@link #MEAN},
 * {@link #SUM}) and the normalised means of other frameworks. Every value but {@code NONE} gives one scalar loss
 * and takes one scalar upstream gradient; the normalised means divide the gradients by the same denominator as the
 * loss, and give 0 (never NaN) when that denominator is 0.
 */
public enum Reduction {
    /** No reduction: one loss per element, written to the caller's loss buffer. */
    NONE(0),
    /** The sum divided by the element count (NaN for an empty input, as PyTorch). */
    MEAN(1),
    /** The sum (0 for an empty input). */
    SUM(2),
    /**
     * The sum divided by the sum of the weights broadcast to the input's shape (so a weight {@code [C]} over
     * {@code [N, C]} counts N times); without a weight, the element count. 0 when that sum is 0.
     */
    MEAN_BY_WEIGHT(3),
    /**
     * The sum divided by the number of elements whose broadcast weight is not 0; without a weight, the element
     * count. 0 when no weight is non-zero or the input is empty.
     */
    MEAN_BY_NONZERO_WEIGHT(4),
    /**
     * The sum divided by the number of elements not ignored (see
     * {@link BinaryCrossEntropy.Builder#ignoreIndex(double)}), as Paddle's {@code normalize=True}; without an
     * ignore index, the element count. 0 when every element is ignored or the input is empty.
     */
    MEAN_VALID(5);

    final int code;

    Reduction(int code) {
        this.code = code;
    }

    /** The value whose {@link #code} is {@code code}. */
    static Reduction ofCode(int code) {
        for (Reduction value : values()) {
            if (value.code == code) {
                return value;
            }
        }
        throw new IllegalArgumentException("no Reduction has code " + code);
    }

    /**
     * The reduction that PyTorch's legacy {@code size_average} and {@code reduce} arguments select, mapped as
     * {@code torch.nn._reduction.legacy_get_string} maps them. A flag that is not given (null) counts as true;
     * {@code reduce} false gives {@link #NONE} whatever {@code sizeAverage} is; both true give {@link #MEAN};
     * {@code reduce} true with {@code sizeAverage} false gives {@link #SUM}.
     *
     * <p>PyTorch deprecates both arguments in favour of {@code reduction}; this exists to port code that still
     * passes them. Its losses consult them only when at least one is given, and otherwise keep their
     * {@code reduction}. So where {@code legacy_get_string(None, None)} answers mean, this throws: a caller that
     * forwards two absent flags would otherwise lose its own reduction without notice. To forward flags that may
     * both be absent, use {@link BinaryCrossEntropy.Builder#legacyReduction(Boolean, Boolean)}.
     *
     * @param sizeAverage PyTorch's {@code size_average}, or null if not given
     * @param reduce PyTorch's {@code reduce}, or null if not given
     * @return {@link #NONE}, {@link #MEAN} or {@link #SUM}
     * @throws IllegalArgumentException if both are null
     */
    public static Reduction fromLegacyFlags(Boolean sizeAverage, Boolean reduce) {
        if (sizeAverage == null && reduce == null) {
            throw new IllegalArgumentException("sizeAverage and reduce are both null: no legacy flag is given, so "
                    + "they select no reduction");
        }
        boolean reduced = reduce == null || reduce;
        boolean averaged = sizeAverage == null || sizeAverage;
        return !reduced ? NONE : averaged ? MEAN : SUM;
    }
}
