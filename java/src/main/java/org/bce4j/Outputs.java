package org.bce4j;

/**
 * Where a {@link BinaryCrossEntropy#compute(Tensor, Tensor, Tensor, Outputs) compute} call writes: one view per
 * output, or null for an output that is not wanted. Every output has the input's {@link DType}; the element counts
 * each needs are listed at its setter. The reduced loss is also the call's return value.
 *
 * <p>Owned by the caller and reusable: set it up once and pass it to any number of calls, which then allocate
 * nothing. Mutable and not synchronised: one thread at a time uses an instance (a call reads it once, at its
 * start).
 */
public final class Outputs {
    private Tensor loss;
    private Tensor gradInput;
    private Tensor gradTarget;
    private Tensor gradWeight;
    private Tensor gradPosWeight;

    /** Outputs with none set: a call then only returns the reduced loss. */
    public Outputs() {}

    /**
     * Where the loss goes: for {@link Reduction#NONE} (which requires it) the per-element losses, the input's
     * element count; for the other reductions one element, the reduced loss.
     *
     * @param loss the view written, or null for none
     * @return this
     */
    public Outputs loss(Tensor loss) {
        this.loss = loss;
        return this;
    }

    /**
     * Where the gradient with respect to the input goes, the input's element count.
     *
     * @param gradInput the view written, or null for none
     * @return this
     */
    public Outputs gradInput(Tensor gradInput) {
        this.gradInput = gradInput;
        return this;
    }

    /**
     * Where the gradient with respect to the target goes, the input's element count.
     *
     * @param gradTarget the view written, or null for none
     * @return this
     */
    public Outputs gradTarget(Tensor gradTarget) {
        this.gradTarget = gradTarget;
        return this;
    }

    /**
     * Where the gradient with respect to the loss' weight goes, summed over the broadcast back to the weight's own
     * shape: as many elements as the weight has, or one when the loss has no weight (the gradient of an implicit
     * scalar weight 1). What is differentiated is the reduced loss times the upstream gradient, or for
     * {@link Reduction#NONE} the sum of {@code gradOutput[i] * loss[i]}.
     *
     * @param gradWeight the view written, or null for none
     * @return this
     */
    public Outputs gradWeight(Tensor gradWeight) {
        this.gradWeight = gradWeight;
        return this;
    }

    /**
     * Where the gradient with respect to the positive-class weight goes ({@link BCEWithLogitsLoss} only), summed
     * as {@link #gradWeight(Tensor)} is: as many elements as the posWeight has, or one when the loss has none.
     *
     * @param gradPosWeight the view written, or null for none
     * @return this
     */
    public Outputs gradPosWeight(Tensor gradPosWeight) {
        this.gradPosWeight = gradPosWeight;
        return this;
    }

    /** {@return the view the loss goes to, or null} */
    public Tensor loss() {
        return loss;
    }

    /** {@return the view the input gradient goes to, or null} */
    public Tensor gradInput() {
        return gradInput;
    }

    /** {@return the view the target gradient goes to, or null} */
    public Tensor gradTarget() {
        return gradTarget;
    }

    /** {@return the view the weight gradient goes to, or null} */
    public Tensor gradWeight() {
        return gradWeight;
    }

    /** {@return the view the positive-class weight gradient goes to, or null} */
    public Tensor gradPosWeight() {
        return gradPosWeight;
    }
}
