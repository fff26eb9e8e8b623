package org.bce4j;

/**
 * Binary cross-entropy on probabilities, as PyTorch's {@code BCELoss(weight, reduction)}: per element
 * {@code l = -w * (y*max(log x, -100) + (1-y)*max(log(1-x), -100))}. Inputs and targets must lie in [0, 1]
 * (checked in the same pass; the exception names the first offending element); NaN propagates.
 *
 * <p>The input gradient is {@code w*(x-y)/max(x*(1-x), 1e-12)} as in libtorch; the target gradient is the
 * derivative of the clamped loss, {@code w*(max(log(1-x),-100) - max(log x,-100))}, finite where libtorch's
 * {@code -logit(x)} is infinite. Prefer {@link BCEWithLogitsLoss} on logits: it is exact where this one clamps.
 * See {@link BinaryCrossEntropy} for the calls.
 */
public final class BCELoss extends BinaryCrossEntropy {

    /** A loss with the given reduction, no weight and the default thread count. */
    public BCELoss(Reduction reduction) {
        this(builder().reduction(reduction));
    }

    private BCELoss(Builder builder) {
        super(false, builder, LogitsOptions.NONE);
    }

    /** A builder with reduction {@link Reduction#MEAN}, no weight and the default thread count. */
    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link BCELoss}. */
    public static final class Builder extends BinaryCrossEntropy.Builder<Builder> {
        private Builder() {}

        @Override
        Builder self() {
            return this;
        }

        /** A new loss; close it when done. */
        public BCELoss build() {
            return new BCELoss(this);
        }
    }
}
