package org.bce4j.spark;

import java.io.Serializable;
import java.util.Arrays;

import org.bce4j.BCELoss;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.BinaryCrossEntropy;

/**
 * What a Spark task computes, shipped with the task: the loss (logits or probabilities) and its options. The native
 * loss itself is built on the executor ({@link #newLoss()}), with one native thread: Spark already runs one task per
 * core.
 */
final class LossSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The logits loss with no options: what {@code bce_with_logits} computes. */
    static final LossSpec PLAIN_LOGITS = new LossSpec(true, null, 0, null);
    /** The probabilities loss with no options: what {@code bce} computes. */
    static final LossSpec PLAIN_PROBABILITIES = new LossSpec(false, null, 0, null);

    final boolean logits;
    /** Null: none; one element: a scalar for every element; more: one per class (the arrays' length). */
    final double[] posWeight;
    final double labelSmoothing;
    /** Null: none. */
    final Double ignoreIndex;

    LossSpec(boolean logits, double[] posWeight, double labelSmoothing, Double ignoreIndex) {
        this.logits = logits;
        this.posWeight = posWeight == null ? null : posWeight.clone();
        this.labelSmoothing = labelSmoothing;
        this.ignoreIndex = ignoreIndex;
    }

    /** {@return the class count a per-class pos_weight fixes for array rows, or 0 where any length will do} */
    int classes() {
        return posWeight != null && posWeight.length > 1 ? posWeight.length : 0;
    }

    /** A new loss with these options, computing on the calling thread alone. The caller closes it. */
    BinaryCrossEntropy newLoss() {
        if (logits) {
            BCEWithLogitsLoss.Builder builder = BCEWithLogitsLoss.builder().numThreads(1);
            if (posWeight != null) {
                builder.posWeight(posWeight, posWeight.length == 1 ? new long[0] : new long[] {posWeight.length});
            }
            return configure(builder).build();
        }
        return configure(BCELoss.builder().numThreads(1)).build();
    }

    private <B extends BinaryCrossEntropy.Builder<B>> B configure(B builder) {
        if (labelSmoothing != 0) {
            builder.labelSmoothing(labelSmoothing);
        }
        if (ignoreIndex != null) {
            builder.ignoreIndex(ignoreIndex);
        }
        return builder;
    }

    @Override
    public String toString() {
        return (logits ? "logits" : "probabilities") + (posWeight == null ? "" : " posWeight=" + Arrays.toString(
                posWeight)) + (labelSmoothing == 0 ? "" : " labelSmoothing=" + labelSmoothing)
                + (ignoreIndex == null ? "" : " ignoreIndex=" + ignoreIndex);
    }
}
