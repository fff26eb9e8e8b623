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
}
