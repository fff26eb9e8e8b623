package org.bce4j;

/** How the per-element losses are reduced, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    /** No reduction: one loss per element, written to the caller's loss buffer. */
    NONE(0),
    /** The sum divided by the element count (NaN for an empty input, as PyTorch). */
    MEAN(1),
    /** The sum (0 for an empty input). */
    SUM(2);

    final int code;

    Reduction(int code) {
        this.code = code;
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
