package org.bce4j;

/**
 * The outcome of a {@code computeWeightGradients} call: its reduced loss and the gradients of the call's result
 * with respect to the loss' weight and positive-class weight, each summed over the broadcast back to that operand's
 * own shape (C order). The result differentiated is the reduced loss times the upstream gradient, or for
 * {@link Reduction#NONE} the sum of {@code gradOutput[i] * loss[i]} (gradOutput 1 when absent). A weight the loss
 * does not have counts as an implicit scalar 1: its gradient has one element and shape {@code []}.
 *
 * <p>Values are doubles; for float32 calls they are the float32 results, widened. Immutable: the accessors return
 * copies.
 */
public final class WeightGradients {
    private final double reducedLoss;
    private final double[] weight;
    private final long[] weightShape;
    private final double[] posWeight; // null for BCELoss, which has no pos_weight
    private final long[] posWeightShape;

    WeightGradients(double reducedLoss, double[] weight, long[] weightShape, double[] posWeight,
            long[] posWeightShape) {
        this.reducedLoss = reducedLoss;
        this.weight = weight;
        this.weightShape = weightShape;
        this.posWeight = posWeight;
        this.posWeightShape = posWeightShape;
    }

    /** {@return the reduced loss, as {@code compute} returns it (NaN for {@link Reduction#NONE})} */
    public double reducedLoss() {
        return reducedLoss;
    }

    /** {@return d(result)/d(weight) in C order, of {@link #weightShape()}; a new copy} */
    public double[] weight() {
        return weight.clone();
    }

    /** {@return the weight's shape, or {@code []} when the loss has no weight; a new copy} */
    public long[] weightShape() {
        return weightShape.clone();
    }

    /**
     * {@return whether there is a positive-class weight gradient: true for {@link BCEWithLogitsLoss}, false for
     * BCELoss}
     */
    public boolean hasPosWeight() {
        return posWeight != null;
    }

    /**
     * {@return d(result)/d(posWeight) in C order, of {@link #posWeightShape()}; a new copy}
     *
     * @throws IllegalStateException for BCELoss, which has no positive-class weight
     */
    public double[] posWeight() {
        requirePosWeight();
        return posWeight.clone();
    }

    /**
     * {@return the positive-class weight's shape, or {@code []} when the loss has none; a new copy}
     *
     * @throws IllegalStateException for BCELoss, which has no positive-class weight
     */
    public long[] posWeightShape() {
        requirePosWeight();
        return posWeightShape.clone();
    }

    private void requirePosWeight() {
        if (posWeight == null) {
            throw new IllegalStateException("BCELoss has no posWeight, so there is no posWeight gradient");
        }
    }
}
