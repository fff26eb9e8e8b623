package org.bce4j.sidebyside;

/**
 * One measured point: an implementation at N elements and T threads. {@code lossRelDiff} is the relative
 * difference of its mean loss from bce4j's, {@code gradErr} the largest |grad_input difference| times N (so it is
 * relative to the gradient's 1/N scale); both NaN where unchecked. {@code ns} is NaN for a skipped point.
 */
record Point(String impl, int n, int t, double ns, int batches, int perBatch, double lossRelDiff, double gradErr,
        String checkedAgainst) {
    /** The most a checked loss may differ from bce4j's, relatively. */
    static final double LOSS_TOLERANCE = 1e-4;
    /** The most grad_input may differ, times N (float32 rounding of values below 1 is about 6e-8). */
    static final double GRAD_TOLERANCE = 1e-5;

    boolean checked() {
        return !Double.isNaN(lossRelDiff);
    }

    boolean failed() {
        return checked() && !(lossRelDiff <= LOSS_TOLERANCE && gradErr <= GRAD_TOLERANCE);
    }
}
